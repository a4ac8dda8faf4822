import { Agent, request } from 'node:http'

/** What one request came to: an answer (status, Retry-After, body), or no answer at all. */
export interface Outcome {
  status: number | null
  retryAfter: boolean
  body: string
  /** 'connection': refused, reset or cut off; 'timeout': no answer within the client's deadline */
  failure: 'connection' | 'timeout' | null
  ms: number
}

// one pool of kept-alive sockets per instance, as a load balancer holds; bounded so a stalled instance cannot make
// the client open thousands
const agents = new Map<string, Agent>()
const agentFor = (base: string) => {
  let agent = agents.get(base)
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, maxSockets: 128 })
    agents.set(base, agent)
  }
  return agent
}

export function closeAgents (): void {
  for (const agent of agents.values()) agent.destroy()
  agents.clear()
}

export function send (
  base: string, method: 'GET' | 'POST', path: string, options: { body?: unknown, token?: string, timeoutMs: number }
): Promise<Outcome> {
  const began = performance.now()
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  const headers: Record<string, string> = {}
  if (payload !== undefined) headers['content-type'] = 'application/json'
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  return new Promise((resolve) => {
    let settled = false
    const done = (outcome: Omit<Outcome, 'ms'>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ ...outcome, ms: performance.now() - began })
    }
    const req = request(`${base}${path}`, { method, headers, agent: agentFor(base) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => done({
        status: res.statusCode ?? 0,
        retryAfter: res.headers['retry-after'] !== undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        failure: null
      }))
      res.on('error', () => done({ status: null, retryAfter: false, body: '', failure: 'connection' }))
    })
    const timer = setTimeout(() => {
      done({ status: null, retryAfter: false, body: '', failure: 'timeout' })
      req.destroy()
    }, options.timeoutMs)
    req.on('error', () => done({ status: null, retryAfter: false, body: '', failure: 'connection' }))
    req.end(payload)
  })
}

/** The problem code of an error answer, for the report. */
export function problemOf (outcome: Outcome): string {
  if (outcome.failure !== null) return outcome.failure
  try { return `${outcome.status} ${String((JSON.parse(outcome.body) as { code?: unknown }).code)}` } catch { return `${outcome.status} (no problem body)` }
}
