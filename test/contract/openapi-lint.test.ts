import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const root = new URL('../../', import.meta.url)

/** Warnings of the recommended ruleset that the API cannot honestly avoid, with the reason. */
const ACCEPTED_WARNINGS: Record<string, string> = {
  'operation-4xx-response': 'the health probes and the key set take no input and no credentials, so no 4xx can come back'
}

interface LintProblem { ruleId: string, severity: 'error' | 'warn', message: string, location: Array<{ pointer: string }> }

t.test('openapi.yaml passes `redocly lint` (recommended rules) without errors', async (t) => {
  const { stdout } = await promisify(execFile)('node_modules/.bin/redocly', ['lint', 'openapi.yaml', '--format=json'], {
    cwd: root,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))
  const { totals, problems } = JSON.parse(stdout) as {
    totals: { errors: number, warnings: number }, problems: LintProblem[]
  }
  const describe = (problem: LintProblem) => `${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`

  t.same(problems.filter((problem) => problem.severity === 'error').map(describe), [], 'no errors')
  t.equal(totals.errors, 0)
  const unexpected = problems.filter((problem) => problem.severity === 'warn' && !(problem.ruleId in ACCEPTED_WARNINGS))
  t.same(unexpected.map(describe), [], 'every warning is one of the accepted ones')
  for (const problem of problems.filter((item) => item.severity === 'warn')) t.comment(`accepted warning: ${describe(problem)}`)
})
