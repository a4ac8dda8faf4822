// Where a server spent its CPU: self time by function and by package, and time by area (the first area found on
// each sample's stack), from a .cpuprofile written by `BENCH_CPU_PROF=1 npm run bench` (or any `node --cpu-prof`).
//   node bench/profile-summary.ts bench/results/profiles/app/<file>.cpuprofile [top=25] [scenario]
// With a scenario (`start`, `floor-start`, …) only the samples of its measured run count (the bench writes the
// runs' windows to bench/results/profiles/windows.jsonl), and the areas are also given in µs per request.
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, samples: number[], timeDeltas: number[] }
interface Window { scenario: string, from: number, to: number, requests: number }

const [file, topArgument, scenario] = process.argv.slice(2)
if (!file) throw new Error('usage: node bench/profile-summary.ts <file.cpuprofile> [top] [scenario]')
const top = Number(topArgument ?? 25)
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile

async function windowOf (name: string): Promise<Window> {
  const lines = (await readFile(join(dirname(dirname(file!)), 'windows.jsonl'), 'utf8')).split('\n').filter(Boolean)
  const window = lines.map((line) => JSON.parse(line) as Window).findLast((item) => item.scenario === name)
  if (window === undefined) throw new Error(`no measured run of ${name} in windows.jsonl`)
  return window
}
const window = scenario === undefined ? null : await windowOf(scenario)

// self time per node: each sample is charged the time until the next one; V8 stamps samples in monotonic µs
const selfMicros = new Map<number, number>()
let at = profile.startTime
profile.samples.forEach((id, index) => {
  at += profile.timeDeltas[index] ?? 0
  if (window !== null && (at < window.from || at > window.to)) return
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index + 1] ?? 0))
})
const total = [...selfMicros.values()].reduce((sum, micros) => sum + micros, 0)

/** `node_modules/<package>`, `node:internal`, the project file, or the V8 pseudo-frame name. */
function packageOf ({ url, functionName }: CallFrame): string {
  if (url === '') return `(${functionName || 'native'})`
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  if (module) return module
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  return url.replace(/^file:\/\/.*?\/(src|plugins|bench)\//, '$1/')
}

const inPackage = (...names: string[]) => ({ url }: CallFrame) => names.some((name) => url.includes(`node_modules/${name}/`))
const inProject = (...paths: string[]) => ({ url }: CallFrame) => !url.includes('node_modules') && paths.some((path) => url.includes(path))
const fastifyStep = (file: string, ...names: string[]) => ({ url, functionName }: CallFrame) =>
  url.includes(`node_modules/fastify/lib/${file}`) && names.includes(functionName)
type Area = [string, (frame: CallFrame) => boolean]
/**
 * The areas of issue #29's table. A sample goes to the first of these (in this order) found anywhere on its
 * stack: what they call (a BullMQ add's Redis write, a validator compiled into an anonymous function) is theirs.
 */
const CALLERS: Area[] = [
  ['idle', ({ functionName }) => functionName === '(idle)'],
  ['garbage collection', ({ functionName }) => functionName === '(garbage collector)'],
  ['queue add (BullMQ)', inPackage('bullmq')],
  ['job sealing', inProject('/src/delivery/job-cipher')],
  ['JWT sign and verify', inPackage('fast-jwt', '@fastify/jwt')],
  ['logging', inPackage('pino', '@pinojs/redact', 'fast-redact')],
  ['metrics', inProject('/src/metrics/', '/plugins/metrics')],
  ['audit', inProject('/src/audit/')],
  ['rate limiter', inPackage('@fastify/rate-limit')],
  ['response serialisation', (frame) => inPackage('fast-json-stringify')(frame) || fastifyStep('reply.js', 'serialize')(frame)],
  ['validation', (frame) => inPackage('ajv', 'fast-uri')(frame) || fastifyStep('validation.js', 'validate', 'validateParam')(frame)],
  ['normalisation', (frame) => inProject('/src/users/identifiers')(frame) || inPackage('libphonenumber-js')(frame)]
]
/** Then the nearest of these to the sample: a socket write is its caller's, the driver's or Fastify's reply. */
const NEAREST: Area[] = [
  ['crypto (HMAC, hashes, random)', ({ url }) => url.startsWith('node:internal/crypto')],
  ['mongoose (its own work: documents, queries)', inPackage('mongoose')],
  ['MongoDB driver and BSON', inPackage('mongodb', 'bson')],
  ['Redis client', inPackage('ioredis', 'redis-parser', 'cluster-key-slot', 'denque')],
  ['request context (audit)', inPackage('@fastify/request-context')],
  ['own code (src/, plugins/)', inProject('/src/', '/plugins/')],
  ['floor routes', inProject('/bench/floor-server')],
  ['Fastify and HTTP', (frame) => inPackage('fastify', 'find-my-way', '@fastify/under-pressure', 'avvio')(frame) || frame.url.startsWith('node:_http')]
]

const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
const parents = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
function areaOf (id: number): string {
  const stack: CallFrame[] = []
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) stack.push(nodes.get(at)!.callFrame)
  const caller = CALLERS.find(([, matches]) => stack.some(matches))
  if (caller) return caller[0]
  for (const frame of stack) {
    const nearest = NEAREST.find(([, matches]) => matches(frame))
    if (nearest) return nearest[0]
  }
  return 'other (Node core: timers, streams, start-up)'
}

const byFunction = new Map<string, number>()
const byPackage = new Map<string, number>()
const byArea = new Map<string, number>()
const add = (map: Map<string, number>, key: string, micros: number) => map.set(key, (map.get(key) ?? 0) + micros)
for (const node of profile.nodes) {
  const micros = selfMicros.get(node.id) ?? 0
  if (micros === 0) continue
  const where = packageOf(node.callFrame)
  add(byFunction, `${node.callFrame.functionName || '(anonymous)'}  ${where}:${node.callFrame.lineNumber + 1}`, micros)
  add(byPackage, where, micros)
  add(byArea, areaOf(node.id), micros)
}

const print = (title: string, entries: Map<string, number>, count = top) => {
  console.log(`\n${title}`)
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    const perRequest = window === null ? '' : `  ${(micros / window.requests).toFixed(0).padStart(5)} µs/req`
    console.log(`${(micros / total * 100).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(7)} ms${perRequest}  ${name}`)
  }
}
const busy = total - (byArea.get('idle') ?? 0)
console.log(`${file}: ${(total / 1e6).toFixed(1)} s of samples` +
  (window === null ? '' : `, the measured run of ${window.scenario}: ${window.requests} requests, ${(busy / window.requests).toFixed(0)} µs/req busy`))
print('time by area', byArea, CALLERS.length + NEAREST.length + 1)
print('self time by package or file', byPackage)
print('self time by function', byFunction)
