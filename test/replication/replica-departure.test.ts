import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { createReplicaAck } from '../../src/stores/replica-ack.ts'
import { DisposableRedis } from '../helpers/redis-server.ts'

const client = (t: Test, port: number) => {
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 })
  t.teardown(() => redis.disconnect())
  return redis
}

/** replicas online (synced and streaming): the ones WAIT can count */
const attached = async (primary: Redis) => (await primary.info('replication')).match(/state=online/g)?.length ?? 0
/** a replica just synced may miss its first WAIT: `count` online, and as many acknowledging a write */
const acknowledging = (primary: Redis, count: number) => async () =>
  await attached(primary) === count && await primary.set('warm-up', '1').then(() => primary.wait(count, 100)) === count

async function until (what: string, check: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`${what} did not happen in 5 s`)
}

/** A primary and two replicas of the test's own, all linked. */
async function replicatedSet (t: Test) {
  const servers = await Promise.all([DisposableRedis.start(), DisposableRedis.start(), DisposableRedis.start()])
  t.teardown(() => Promise.all(servers.map((server) => server.dispose())))
  const [primary, first, second] = servers.map((server) => client(t, server.port)) as [Redis, Redis, Redis]
  // a replica (re)joining syncs at once, not after the default 5 s wait for others to join the same transfer
  await primary.config('SET', 'repl-diskless-sync-delay', '0')
  const follow = (replica: Redis) => replica.replicaof('127.0.0.1', servers[0]!.port)
  await Promise.all([follow(first), follow(second)])
  await until('two replicas linked', acknowledging(primary, 2))
  return { primary, first, second, follow }
}

// A forced Sentinel failover promotes one replica while the old primary still takes writes, and the other replica
// still follows it until Sentinel moves it: a write it alone acknowledged is lost when it resyncs from the new
// primary. WAIT 1 would count that acknowledgement; every replica the primary had must have the write.
t.test('a replica that leaves the primary (promoted elsewhere) while another still follows it: the write is refused, not lost', async (t) => {
  const { primary, first, second, follow } = await replicatedSet(t)
  let now = 1_000_000
  const ack = createReplicaAck(primary, { replicas: 1, timeoutMs: 200, now: () => now })
  t.teardown(() => ack.close())

  await ack.confirm('{a}:1')
  t.pass('both replicas there: acknowledged')

  await first.replicaof('NO', 'ONE')
  await until('the promoted replica gone from the primary', async () => await attached(primary) === 1)
  await t.rejects(ack.confirm('{a}:2'), { name: 'ReplicasBehindError' }, 'the replica left behind would acknowledge alone: refused')

  // it comes back (a supervisor restarts it, Sentinel re-points it): acknowledged again
  await follow(first)
  await until('the replica back', acknowledging(primary, 2))
  await ack.confirm('{a}:3')
  t.pass('both replicas back: acknowledged')

  // a replica gone for good is forgotten after a while: the one left, with REDIS_WAIT_REPLICAS=1, is enough
  await second.replicaof('NO', 'ONE')
  await until('the second replica gone', async () => await attached(primary) === 1)
  await t.rejects(ack.confirm('{a}:4'), { name: 'ReplicasBehindError' }, 'just gone: refused')
  now += 60_000
  await ack.confirm('{a}:5')
  t.pass('long gone: the replica that stayed acknowledges alone')
})

t.test('never fewer than REDIS_WAIT_REPLICAS: with one replica left, WAIT 2 is refused however long ago the other left', async (t) => {
  const { primary, first } = await replicatedSet(t)
  let now = 1_000_000
  const ack = createReplicaAck(primary, { replicas: 2, timeoutMs: 200, now: () => now })
  t.teardown(() => ack.close())
  await ack.confirm('{a}:1')
  await first.replicaof('NO', 'ONE')
  await until('one replica gone', async () => await attached(primary) === 1)
  now += 60_000
  await t.rejects(ack.confirm('{a}:2'), { name: 'ReplicasBehindError', message: /^1 of 2 replicas/ })
})
