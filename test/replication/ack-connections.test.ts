import t, { type Test } from 'tap'
import calculateSlot from 'cluster-key-slot'
import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { Redis, type Cluster } from 'ioredis'
import { AckConnections } from '../../src/stores/ack-connections.ts'
import { createTestCluster, createTestRedis, keepCopies } from '../helpers/redis.ts'

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
  // closed once Redis has closed its side too: an event, not a fixed time on a loaded machine
  if (stale !== undefined && stale.status !== 'end') await once(stale, 'end')
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

/** A TCP proxy to the test Redis whose new connections reach it only after `delayMs` (a loaded or distant server). */
async function slowProxy (t: Test, target: { host: string, port: number }) {
  const proxy = { delayMs: 0 }
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((client) => {
    sockets.add(client)
    client.pause()
    timers.add(setTimeout(() => {
      const upstream = connect(target.port, target.host, () => { client.pipe(upstream).pipe(client); client.resume() })
      sockets.add(upstream)
      for (const socket of [client, upstream]) socket.on('error', () => { client.destroy(); upstream.destroy() })
    }, proxy.delayMs))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const timer of timers) clearTimeout(timer)
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  const source = new Redis({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, lazyConnect: true, enableOfflineQueue: false })
  t.teardown(() => source.disconnect())
  await source.connect()
  return { proxy, source }
}

t.test('AckConnections: a copy that connects after its caller gave up is kept, and lent to the next caller at once', async (t) => {
  const redis = createTestRedis()
  t.teardown(() => redis.quit())
  const { proxy, source } = await slowProxy(t, { host: redis.options.host ?? '127.0.0.1', port: redis.options.port ?? 6379 })
  proxy.delayMs = 300
  const pool = new AckConnections(source, 1)
  t.teardown(() => pool.close())
  await t.rejects(pool.use(100, fail, async (connection) => connection.ping()), { message: /^no connection for the acknowledgement: not connected within 100 ms/ })
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(await pool.use(100, fail, async (connection) => connection.ping()), 'PONG', 'the copy opened late serves the next acknowledgement')
})

t.test('AckConnections: a caller whose copy is still connecting takes one given back first', async (t) => {
  const redis = createTestRedis()
  t.teardown(() => redis.quit())
  const { proxy, source } = await slowProxy(t, { host: redis.options.host ?? '127.0.0.1', port: redis.options.port ?? 6379 })
  const pool = new AckConnections(source, 2)
  t.teardown(() => pool.close())
  const [first] = await warm(pool, 1)
  proxy.delayMs = 2000
  let giveBack = () => {}
  const held = pool.use(1000, fail, (connection) => new Promise<void>((resolve) => {
    t.equal(connection, first)
    giveBack = resolve
  }))
  const began = Date.now()
  const waiting = pool.use(1000, fail, async (connection) => connection)
  setTimeout(() => giveBack(), 50)
  await held
  t.equal(await waiting, first, 'the second caller ran on the connection the first gave back')
  t.ok(Date.now() - began < 1000, `within its deadline (${Date.now() - began} ms), not after the new copy's 2 s`)
})

t.test('AckConnections: after a failed acknowledgement a Cluster copy is lent again, a one-server copy is replaced', async (t) => {
  const cluster = createTestCluster()
  const redis = createTestRedis()
  t.teardown(() => Promise.all([cluster.quit(), redis.quit()]))
  await cluster.ping()
  for (const [source, kept] of [[cluster, true], [redis, false]] as const) {
    const pool = new AckConnections(source, 1)
    t.teardown(() => pool.close())
    let failed: Redis | Cluster | undefined
    await t.rejects(pool.use(1000, fail, async (connection) => { failed = connection; throw new Error('CLUSTERDOWN') }), { message: 'CLUSTERDOWN' })
    const next = await pool.use(1000, fail, async (connection) => connection)
    if (kept) {
      t.equal(next, failed, 'the Cluster copy follows the cluster itself: no new copy to open under load')
    } else {
      t.not(next, failed, 'the one-server copy, maybe on a demoted master, is replaced')
      t.equal(failed?.status, 'end')
    }
  }
})

t.test('AckConnections.warm: copies opened ahead of need are lent without a wait', async (t) => {
  const redis = createTestRedis()
  t.teardown(() => redis.quit())
  const opened = keepCopies(redis)
  const pool = new AckConnections(redis, 3)
  t.teardown(() => pool.close())
  pool.warm(2)
  pool.warm(2)
  t.equal(opened.length, 2, 'two copies opening, and no more for a second call')
  await Promise.all(opened.map((copy) => copy.status === 'ready' ? null : once(copy, 'ready')))
  // the pool takes a copy in as idle a few promise jobs after its ready event
  await new Promise((resolve) => setImmediate(resolve))
  t.same(opened.map((copy) => copy.status), ['ready', 'ready'])
  const lent = await warm(pool, 2)
  t.same(new Set(lent), new Set(opened), 'the two lent are the copies opened ahead')
})
