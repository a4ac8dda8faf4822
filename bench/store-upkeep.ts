// Between runs, the stand-in's PostgreSQL is vacuumed and analysed (with autovacuum off for the bench): one run's
// dead row versions, GIN pending lists and stale planner statistics then never tax the next, and no autovacuum
// starts in the middle of a measured run. That upkeep is the stand-in's, not the API's (MongoDB has no vacuum), and
// it timed the runs: the same floor measured 307 and 1,012 req/s in two sittings. App and floor get it alike.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** VACUUM (ANALYZE) of the bench's PostgreSQL when there is one (TEST_MONGO=ferretdb-pg); otherwise nothing. */
export async function storeVacuumed (env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { TEST_POSTGRES_URL: url, TEST_PSQL: psql } = env
  if (!url || !psql) return
  await run(psql, ['-q', '-X', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', 'VACUUM (ANALYZE)'])
}
