import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { Redis } from 'ioredis'

const run = promisify(execFile)
const SCRIPT = new URL('../../scripts/redis-sets.sh', import.meta.url).pathname

/**
 * A replicated Redis set of one test's own (scripts/redis-sets.sh), in a temporary directory, so the nodes it
 * kills are no other test's; stopped and removed at teardown.
 */
export async function startRedisSet (t: Test, kind: 'sentinel' | 'cluster') {
  const dir = mkdtempSync(join(tmpdir(), `otp-gate-${kind}-`))
  t.teardown(async () => {
    await run('bash', [SCRIPT, 'stop', dir])
    rmSync(dir, { recursive: true, force: true })
  })
  await run('bash', [SCRIPT, kind, 'start', dir])
  const env = Object.fromEntries(readFileSync(join(dir, 'env'), 'utf8').trim().split('\n').map((line) => {
    const at = line.indexOf('=')
    return [line.slice(0, at), line.slice(at + 1)]
  })) as Record<string, string>
  return {
    env,
    /** SIGKILL: a crash, not a shutdown */
    kill: (port: number) => { process.kill(Number(readFileSync(join(dir, `redis-${port}.pid`), 'utf8')), 'SIGKILL') },
    /** the server on `port` again, as the script first started it */
    restart: async (port: number) => { await run('bash', [SCRIPT, 'restart', dir, String(port)]) },
    /** a client of one node, for a test's questions (ROLE, CLUSTER NODES); closed at teardown */
    node: (port: number) => {
      const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: true })
      t.teardown(() => client.disconnect())
      return client
    }
  }
}
