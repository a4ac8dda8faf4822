import { mkdir, writeFile } from 'node:fs/promises'
import type { Row } from './row.ts'

export interface FaultsReport {
  ranAt: string
  machine: string
  settings: Record<string, string | number>
  rows: Row[]
  totalSeconds: number
  warnings: string[]
}

const HEADER = [
  'scenario', 'WAIT', 'sent', '2xx', '503', '503 w/o Retry-After', 'other 5xx', 'conn. errors', 'timeouts',
  'recovery s', 'lost challenges', 'unused refresh refused', 'revoked revived', 'never delivered', 'delivered twice'
]

const cells = (row: Row): string[] => [
  row.scenario,
  row.waitReplicas === null ? '–' : String(row.waitReplicas),
  String(row.sent),
  String(row.ok),
  String(row.unavailable),
  String(row.unavailableWithoutRetryAfter),
  String(row.otherServerErrors),
  String(row.connectionErrors),
  String(row.timeouts),
  row.recoverySeconds === null ? 'not recovered' : String(row.recoverySeconds),
  `${row.losses.challengesLost} / ${row.losses.challengesChecked}`,
  `${row.losses.sleepingRefused} / ${row.losses.sleepingChecked}`,
  `${row.losses.revokedRevived} / ${row.losses.revokedChecked}`,
  String(row.losses.neverDelivered),
  String(row.losses.deliveredTwice)
]

export function formatTable (report: FaultsReport): string {
  const lines = [
    `| ${HEADER.join(' | ')} |`,
    `| --- | --- | ${HEADER.slice(2).map(() => '---:').join(' | ')} |`,
    ...report.rows.map((row) => `| ${cells(row).join(' | ')} |`)
  ]
  return lines.join('\n')
}

/** the seconds per failed count, the fault's second in brackets */
const timeline = (row: Row) => row.failuresPerSecond
  .map((count, index) => index + row.firstSecond === 0 ? `[${count}]` : String(count)).join(' ')

function details (row: Row): string {
  const parts = [
    `before the fault p50 ${row.beforeFault.p50Ms} ms, p99 ${row.beforeFault.p99Ms} ms`,
    `slowest answer ${row.slowestMs} ms, ${row.slowerThanDeadline} slower than the store deadline + 1 s`,
    `${row.clientErrors} 4xx`,
    ...(row.starved > 0 ? [`${row.starved} not sent (a pool ran dry)`] : []),
    ...(row.losses.unchecked > 0 ? [`${row.losses.unchecked} checks left undone: no instance answered but 503`] : []),
    ...row.notes
  ]
  const problems = Object.entries(row.problems).sort(([, a], [, b]) => b - a).map(([key, count]) => `${count} × ${key}`)
  const refusals = Object.entries(row.losses.refusals).map(([key, count]) => `${count} × ${key}`)
  return [
    `- **${row.scenario}${row.waitReplicas === null ? '' : `, WAIT ${row.waitReplicas}`}**: ${parts.join('; ')}`,
    ...(problems.length > 0 ? [`  - error answers: ${problems.join(', ')}`] : []),
    `  - failed answers per second sent, from ${row.firstSecond} s (0: the fault's second): ${timeline(row)}`,
    ...(refusals.length > 0 ? [`  - refused afterwards: ${refusals.join(', ')}`] : []),
    ...row.serverErrorSamples.map((sample) => `  - 5xx other than a 503 with Retry-After: \`${sample}\``)
  ].join('\n')
}

export function formatMarkdown (report: FaultsReport): string {
  return [
    `# otp-gate under faults, ${report.ranAt}`,
    '',
    `${report.machine}; the run took ${report.totalSeconds} s. Settings: ${Object.entries(report.settings).map(([key, value]) => `${key}=${value}`).join(', ')}.`,
    '',
    formatTable(report),
    '',
    'Losses are `lost / checked`. Recovery: seconds from the fault to the last failed answer (503, other 5xx, connection error or timeout). See docs/failures.md for what each column means.',
    '',
    ...report.rows.map(details),
    ...(report.warnings.length > 0 ? ['', '## Warnings', '', ...report.warnings.map((warning) => `- ${warning}`)] : []),
    ''
  ].join('\n')
}

export async function writeFaultsReport (directory: URL, report: FaultsReport): Promise<void> {
  await mkdir(directory, { recursive: true })
  await writeFile(new URL('faults.json', directory), JSON.stringify(report, null, 2) + '\n')
  await writeFile(new URL('faults.md', directory), formatMarkdown(report))
}
