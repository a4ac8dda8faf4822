import t from 'tap'
import calculateSlot from 'cluster-key-slot'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { Redis, type Cluster } from 'ioredis'
import { AckConnections } from '../../src/stores/ack-connections.ts'
import { createTestCluster, createTestRedis } from '../helpers/redis.ts'

const fail = (why: string) => new Error(why)

/** Lends `count` connections at once (so the pool opens that many), and hands them back idle. */
async function warm (pool: AckConnections, count: number): Promise<Array<Redis | Cluster>> {
  const lent: Array<Redis | Cluster> = []
  let release = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const uses = Array.from({ length: count }, () => pool.use(1000, fail, async (connection) => {
    lent.push(connection)
    if (lent.length === count) release()
    await held
  }))
  await Promise.all(uses)
  return lent
}

t.test('AckConnections.catchUp, Cluster: every idle copy asks for the slot map again', async (t) => {
  const cluster = createTestCluster()
  t.teardown(() => cluster.quit())
  await cluster.ping()
  const pool = new AckConnections(cluster, 2)
  t.teardown(() => pool.close())
  const copies = await warm(pool, 2) as Cluster[]
  const slot = calculateSlot('{catch-up}:replica-ack')
  const owner = copies[0]?.slots[slot]?.[0]
  t.ok(owner, `slot ${slot} is on ${owner}`)
  // as after a failover: the copies were checked before they sent anything, so no MOVED corrected them
  for (const copy of copies) copy.slots[slot] = ['127.0.0.1:1']
  pool.catchUp(() => true)
  for (let tries = 0; tries < 100 && copies.some((copy) => copy.slots[slot]?.[0] !== owner); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.same(copies.map((copy) => copy.slots[slot]?.[0]), [owner, owner], 'both copies know the slot\'s node again')
  t.same(copies.map((copy) => copy.status), ['ready', 'ready'], 'and stay open (nothing to reconnect)')
})

t.test('AckConnections.catchUp, one server: the idle copies `stale` picks are closed, the others lent again', async (t) => {
  const redis = createTestRedis()
  t.teardown(() => redis.quit())
  const pool = new AckConnections(redis, 2)
  t.teardown(() => pool.close())
  const [stale, kept] = await warm(pool, 2)
  pool.catchUp((connection) => connection === stale)
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(stale?.status, 'end', 'the stale copy is closed')
  const next = await pool.use(1000, fail, async (connection) => connection)
  t.equal(next, kept, 'the next acknowledgement runs on the copy that was kept')
})

t.test('AckConnections: a copy whose server accepts and never answers fails its caller within the deadline', async (t) => {
  // a server stalled (or drowning) takes the TCP connection and answers nothing: connect() waits for a ready check
  const silent = createServer(() => {})
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  const { port } = silent.address() as AddressInfo
  const source = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false })
  t.teardown(() => { source.disconnect(); silent.close() })
  const pool = new AckConnections(source, 1)
  t.teardown(() => pool.close())
  const began = Date.now()
  await t.rejects(pool.use(200, fail, async () => 'never'), { message: /^no connection for the acknowledgement: not connected within 200 ms/ })
  t.ok(Date.now() - began < 1000, `refused after ${Date.now() - began} ms`)
})
