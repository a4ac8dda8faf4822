// The line-coverage floor of `npm test`: tap only knows "100 % or not", so this reads the summary its run wrote
// (.taprc: coverage-report json-summary) and fails below the floor, naming the files under it.
import { readFileSync } from 'node:fs'

const FLOOR = Number(process.argv[2] ?? 98)
type Summary = Record<string, { lines: { pct: number } }>
const summary = JSON.parse(readFileSync('.tap/report/coverage-summary.json', 'utf8')) as Summary
const { total, ...files } = summary
const below = Object.entries(files).filter(([, file]) => file.lines.pct < FLOOR).map(([name, file]) => `  ${name}: ${file.lines.pct} %`)
console.log(`lines: ${total!.lines.pct} % (floor ${FLOOR} %)${below.length ? `; files under it:\n${below.join('\n')}` : ''}`)
if (total!.lines.pct < FLOOR) {
  console.error(`coverage: ${total!.lines.pct} % of lines is under the floor of ${FLOOR} %`)
  process.exitCode = 1
}
