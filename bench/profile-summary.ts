// Where a server spent its CPU: self time by function and by package, from a .cpuprofile written by
// `BENCH_CPU_PROF=1 npm run bench` (or any `node --cpu-prof`).
//   npm exec -- node bench/profile-summary.ts bench/results/profiles/<file>.cpuprofile [top=25]
import { readFile } from 'node:fs/promises'

interface ProfileNode {
  id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number
}
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const [file, topArgument] = process.argv.slice(2)
if (!file) throw new Error('usage: node bench/profile-summary.ts <file.cpuprofile> [top]')
const top = Number(topArgument ?? 25)
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile

// self time per node: each sample is charged the time until the next one
const selfMicros = new Map<number, number>()
profile.samples.forEach((id, index) => {
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index + 1] ?? 0))
})
const total = [...selfMicros.values()].reduce((sum, micros) => sum + micros, 0)

/** `node_modules/<package>`, `node:internal`, the project file, or the V8 pseudo-frame name. */
function packageOf ({ url, functionName }: ProfileNode['callFrame']): string {
  if (url === '') return `(${functionName || 'native'})`
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  if (module) return module
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  return url.replace(/^file:\/\/.*?\/(src|plugins|bench)\//, '$1/')
}

const byFunction = new Map<string, number>()
const byPackage = new Map<string, number>()
for (const node of profile.nodes) {
  const micros = selfMicros.get(node.id) ?? 0
  if (micros === 0) continue
  const where = packageOf(node.callFrame)
  const name = `${node.callFrame.functionName || '(anonymous)'}  ${where}:${node.callFrame.lineNumber + 1}`
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros)
  byPackage.set(where, (byPackage.get(where) ?? 0) + micros)
}

const print = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`)
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(micros / total * 100).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`)
  }
}
console.log(`${file}: ${(total / 1e6).toFixed(1)} s of samples`)
print('self time by package or file', byPackage)
print('self time by function', byFunction)
