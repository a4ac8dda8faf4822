import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { withDeadline } from '../src/stores/store-deadline.ts'
import { isStoreUnavailable, storeErrorSummary, unavailableIfStoreError } from '../src/stores/store-errors.ts'
import { AppError } from '../src/errors.ts'

class Adapter {
  readonly #delayMs: number
  inits = 0
  constructor (delayMs: number) { this.#delayMs = delayMs }
  async init (): Promise<void> { await sleep(this.#delayMs); this.inits += 1 }
  async read (value: string): Promise<string> { await sleep(this.#delayMs); return value }
  async fail (): Promise<never> { await sleep(this.#delayMs); throw new Error('late failure') }
  name (): string { return 'plain' }
}

t.test('a call within the deadline answers as the adapter does; #private fields work through the wrapper', async (t) => {
  const adapter = withDeadline(new Adapter(1), 1000, 'test')
  t.equal(await adapter.read('x'), 'x')
  t.equal(adapter.name(), 'plain', 'a synchronous method is passed through')
})

t.test('a call past the deadline rejects as a store outage; a late failure of it is swallowed', async (t) => {
  const adapter = withDeadline(new Adapter(200), 20, 'users')
  const error = await adapter.read('x').catch((caught: unknown) => caught) as Error
  t.equal(error.name, 'StoreTimeoutError')
  t.match(error.message, /^users\.read took longer than 20 ms$/, 'names the call, not its arguments')
  t.ok(isStoreUnavailable(error), 'a 503 for the error handler')
  t.same(storeErrorSummary(error), { type: 'StoreTimeoutError' }, 'logged by type only')
  await t.rejects(adapter.fail(), { name: 'StoreTimeoutError' })
  // the abandoned call rejects later: no unhandled rejection may follow
  await sleep(250)
})

t.test('init keeps the driver\'s own budget: start-up index builds are not cut short', async (t) => {
  const adapter = withDeadline(new Adapter(50), 10, 'sessions')
  await adapter.init()
  t.equal(adapter.inits, 1)
})

t.test('during authentication any store error is a 503 with Retry-After; other errors pass unchanged', async (t) => {
  const poolCleared = Object.assign(new Error('Connection to 127.0.0.1:1 interrupted due to server monitor timeout'), { name: 'PoolClearedOnNetworkError' })
  const serverError = Object.assign(new Error('E11000 duplicate key jane@example.org'), { name: 'MongoServerError', code: 11000 })
  for (const error of [poolCleared, serverError]) {
    const mapped = unavailableIfStoreError(error)
    t.ok(mapped instanceof AppError && mapped.code === 'service_unavailable' && mapped.retryAfter! > 0, `${error.name}: 503`)
  }
  t.ok(isStoreUnavailable(poolCleared), 'a pool cleared by a stalled server\'s monitor is an outage anywhere')
  const unauthorized = new AppError('unauthorized')
  t.equal(unavailableIfStoreError(unauthorized), unauthorized, 'a decision stays a decision')
  const bug = new TypeError('x is undefined')
  t.equal(unavailableIfStoreError(bug), bug, 'a bug stays a 500')
})

t.test('a socket the server closed under the driver (a killed MongoDB-wire server: EPIPE, not wrapped) is a 503', async (t) => {
  // what the MongoDB driver rethrew as it was, from net's writeAfterFIN, when `npm run faults` killed the server
  const ended = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' })
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' })
  for (const error of [ended, reset]) {
    t.ok(isStoreUnavailable(error), `${error.message}: an outage, answered 503 with Retry-After`)
  }
  t.notOk(isStoreUnavailable(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })), 'not any error with a code')
})

t.test('a Cluster failing over and replicas behind are outages (503), not bugs', async (t) => {
  // what ioredis throws once MOVED/CLUSTERDOWN redirections run out while a replica is being promoted
  t.ok(isStoreUnavailable(new Error('Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down')))
  const behind = new Error('0 of 1 replicas acknowledged a write within 50 ms')
  behind.name = 'ReplicasBehindError'
  t.ok(isStoreUnavailable(behind), 'REDIS_WAIT_REPLICAS not met')
})
