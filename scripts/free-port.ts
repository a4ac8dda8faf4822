// A free TCP port on 127.0.0.1 for a test service, below the kernel's ephemeral range: a port from listen(0) is an
// ephemeral one, which an outgoing connection can take between our check and the service's bind, and which a
// client reconnecting to a killed service can even be handed as its own source port (TCP connects to itself and
// holds the port the service is restarted on). Below the range neither happens. `node scripts/free-port.ts` prints one.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const LOWEST = 10_000

/** The first port the kernel hands out to outgoing connections (32768 on Linux unless tuned). */
function ephemeralLow (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : 32_768
  } catch {
    return 32_768
  }
}

const bindable = (port: number) => new Promise<boolean>((resolve) => {
  const server = createServer()
  server.once('error', () => resolve(false))
  server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
})

export async function freePort (): Promise<number> {
  const high = ephemeralLow()
  for (let tries = 0; tries < 100; tries++) {
    const port = LOWEST + Math.floor(Math.random() * (high - LOWEST))
    if (await bindable(port)) return port
  }
  throw new Error(`no free port between ${LOWEST} and ${high} after 100 tries`)
}

if (import.meta.main) console.log(await freePort())
