import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { RedisOtpStore } from '../../src/otp/redis-otp-store.ts'
import { newChallengeId } from '../../src/otp/codes.ts'
import type { SendLimits } from '../../src/otp/otp-store.ts'
import type { ThrottleLimits } from '../../src/throttle/throttling.ts'
import { RedisRevocationStore } from '../../src/sessions/redis-revocation-store.ts'
import { BullMqDeliveryQueue } from '../../src/delivery/bullmq-delivery-queue.ts'
import { createReplicaAck, markerKey, NO_REPLICA_ACK, ReplicasBehindError, type ReplicaAck } from '../../src/stores/replica-ack.ts'
import { connectWithOwnPrefix, createTestCluster, createTestRedis, keepCopies } from '../helpers/redis.ts'
import type { Cluster } from 'ioredis'
import { createRedisClient } from '../../plugins/redis.ts'
import { loadConfig } from '../../src/config.ts'
import { connectEveryNode } from '../../src/stores/cluster-slots.ts'
import calculateSlot from 'cluster-key-slot'

const LIMITS: SendLimits = {
  ttlMs: 60_000, cooldownMs: 0, quota: 100, quotaWindowMs: 60_000, dailyQuota: 100, dailyWindowMs: 86_400_000
}
const THROTTLE: ThrottleLimits = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 4000,
  suspendAfter: 100,
  memoryMs: 60_000,
  noticeIntervalMs: 10_000,
  suspendWindowMs: 86_400_000
}

/** A ReplicaAck whose replicas a test holds back: `behind = true` and every confirm fails as a WAIT short of them. */
function switchableAck () {
  const ack = {
    behind: false,
    confirmed: [] as string[],
    replicas: 1,
    confirm: async (key: string) => {
      if (ack.behind) throw new ReplicasBehindError('0 of 1 replicas acknowledged a write within 10 ms')
      ack.confirmed.push(key)
    },
    close: async () => {}
  }
  return ack satisfies ReplicaAck
}

function harness (t: Test) {
  const redis = connectWithOwnPrefix(createTestRedis, 'replica-ack')
  t.teardown(redis.close)
  const ack = switchableAck()
  const otp = new RedisOtpStore(redis.client, { keyPrefix: `${redis.keyPrefix}otp:`, replicaAck: ack })
  const destinationKey = randomBytes(16).toString('hex')
  const start = async () => {
    const challengeId = newChallengeId(destinationKey)
    const payload = { purpose: 'login', channel: 'email' as const, destination: 'someone', userId: null, locale: null, deliverable: true }
    await otp.startChallenge({ challengeId, destinationKey, payload, codeHash: 'right', linkHash: 'link', maxAttempts: 5 }, LIMITS, THROTTLE)
    return challengeId
  }
  return { redis, ack, otp, start }
}

t.test('a resend the replicas did not get is withdrawn: the client starts again', async (t) => {
  const { ack, otp, start } = harness(t)
  const challengeId = await start()
  t.equal(ack.confirmed.length, 1, 'the start was confirmed')
  ack.behind = true
  await t.rejects(otp.resendChallenge(challengeId, { codeHash: 'again', linkHash: 'link2' }, LIMITS, THROTTLE), { name: 'ReplicasBehindError' })
  t.equal(await otp.peekChallenge(challengeId), null, 'no challenge left')
})

t.test('a used code the replicas did not get is put back: the same code works once they answer', async (t) => {
  const { ack, otp, start } = harness(t)
  const challengeId = await start()
  ack.behind = true
  await t.rejects(otp.verifyChallenge(challengeId, 'login', ['right'], THROTTLE), { name: 'ReplicasBehindError' })
  t.not(await otp.peekChallenge(challengeId), null, 'the challenge is back')
  ack.behind = false
  t.match(await otp.verifyChallenge(challengeId, 'login', ['right'], THROTTLE), { outcome: 'verified' })
  t.equal(await otp.verifyLink(challengeId, 'login', 'link').then(({ outcome }) => outcome), 'expired', 'used once')
})

t.test('a link used while the replicas are behind is put back too', async (t) => {
  const { ack, otp, start } = harness(t)
  const challengeId = await start()
  ack.behind = true
  await t.rejects(otp.verifyLink(challengeId, 'login', 'link'), { name: 'ReplicasBehindError' })
  ack.behind = false
  t.match(await otp.verifyLink(challengeId, 'login', 'link'), { outcome: 'verified' })
})

t.test('a revocation the replicas did not get fails (503) and stays written: never withdrawn', async (t) => {
  const { redis, ack } = harness(t)
  const revocations = new RedisRevocationStore(redis.client, { keyPrefix: `${redis.keyPrefix}revoked:`, replicaAck: ack })
  ack.behind = true
  await t.rejects(revocations.revokeSession('user-1', 'session-1', 60), { name: 'ReplicasBehindError' })
  await t.rejects(revocations.revokeUserBefore('user-2', new Date(), 60), { name: 'ReplicasBehindError' })
  t.equal(await revocations.check('user-1', 'session-1', Math.floor(Date.now() / 1000)), 'revoked', 'the entry is there')
})

t.test('a queued job the replicas did not get is removed and enqueue fails', async (t) => {
  const { redis, ack } = harness(t)
  const queue = new BullMqDeliveryQueue({ connection: redis.client, prefix: `${redis.keyPrefix}{delivery}`, concurrency: 1, graceMs: 500, replicaAck: ack })
  t.teardown(() => queue.close())
  const job = { kind: 'code' as const, channel: 'email' as const, sealed: 'k.i.c.t', challengeId: 'ab12.replica-ack-job-00000000000', expiresAt: Date.now() + 60_000, locale: null, purpose: 'login' }
  await queue.enqueue(job)
  t.equal(await queue.pending(), 1, 'confirmed and queued')
  t.match(ack.confirmed.at(-1), /\{delivery\}:outbound:/, 'confirmed on the queue\'s slot')
  ack.behind = true
  await t.rejects(queue.enqueue(job), { name: 'ReplicasBehindError' })
  t.equal(await queue.pending(), 1, 'the unconfirmed job was removed')
})

t.test('createReplicaAck: nothing to wait for at 0 or without Redis; a real WAIT on a plain Redis has no replica', async (t) => {
  const redis = createTestRedis()
  t.teardown(() => redis.quit())
  t.equal(createReplicaAck(redis, { replicas: 0, timeoutMs: 10 }), NO_REPLICA_ACK)
  t.equal(createReplicaAck(null, { replicas: 1, timeoutMs: 10 }), NO_REPLICA_ACK)
  await NO_REPLICA_ACK.confirm('any')
  const ack = createReplicaAck(redis, { replicas: 1, timeoutMs: 10 })
  t.teardown(() => ack.close())
  await redis.set('{any}:written', '1', 'PX', 1000) // an acknowledgement follows a write on the app's connection
  await t.rejects(ack.confirm('any'), { name: 'ReplicasBehindError', message: /^0 of 1 replicas/ })
  t.equal(markerKey('otp:{bucket}:c:1'), '{bucket}:replica-ack', 'the marker shares the key\'s hash tag')
  t.equal(markerKey('revoked:abc'), '{revoked:abc}:replica-ack', 'a key without a tag is the tag')
})

t.test('createReplicaAck: a WAIT holds only its own connection; with all lent, a caller waits within the deadline, then is refused', async (t) => {
  const redis = createTestRedis()
  t.teardown(() => redis.quit())
  const ack = createReplicaAck(redis, { replicas: 1, timeoutMs: 100, connections: 1 })
  t.teardown(() => ack.close())
  await redis.set('{a}:written', '1', 'PX', 1000)
  // one connection, no replica: the first WAIT holds it 100 ms, the second waits for it, the third cannot have it
  // before its own deadline passes (it would come free only after the first two)
  const answers = await Promise.allSettled([ack.confirm('{a}:1'), ack.confirm('{a}:2'), ack.confirm('{a}:3')])
  t.same(answers.map((answer) => answer.status), ['rejected', 'rejected', 'rejected'])
  const reasons = answers.map((answer) => answer.status === 'rejected' ? answer.reason as Error : null)
  t.ok(reasons.every((reason) => reason?.name === 'ReplicasBehindError'), 'each is the one refusal')
  t.match(reasons[2]?.message, /busy/, 'the third never had a connection')
  await ack.close()
  await t.rejects(ack.confirm('{a}:4'), { name: 'ReplicasBehindError', message: /closing/ }, 'closed: nothing more is asked')
})

t.test('createReplicaAck on a Cluster: a slot the app\'s client places on a gone node is refused, and the client\'s slot map is put right', async (t) => {
  const cluster = createTestCluster()
  t.teardown(() => cluster.quit())
  await cluster.set('{stale}:written', '1', 'PX', 1000)
  const ack = createReplicaAck(cluster, { replicas: 1, timeoutMs: 200 })
  t.teardown(() => ack.close())
  const slot = calculateSlot('{stale}:replica-ack')
  const owner = cluster.slots[slot]?.[0]
  t.ok(owner, `slot ${slot} is on ${owner}`)
  // as after a failover where the write reached the promoted node by chance, without a MOVED to correct the map
  cluster.slots[slot] = ['127.0.0.1:1']
  const refusal = { name: 'ReplicasBehindError', message: /would be asked of .*, not 127\.0\.0\.1:1/ }
  await t.rejects(ack.confirm('{stale}:written'), refusal)
  for (let tries = 0; tries < 100 && cluster.slots[slot]?.[0] !== owner; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(cluster.slots[slot]?.[0], owner, 'the client asked for the slot map again: the slot is on its node again')
})

t.test('createReplicaAck on a Cluster: an acknowledgement connection whose slot map is behind asks for it again, and is not refused for it', async (t) => {
  const cluster = createTestCluster()
  t.teardown(() => cluster.quit())
  await cluster.set('{behind}:written', '1', 'PX', 1000)
  // the acknowledgement's connections are copies of the app's client: kept here, to put one's slot map behind
  const copies = keepCopies(cluster)
  const ack = createReplicaAck(cluster, { replicas: 1, timeoutMs: 300 })
  t.teardown(() => ack.close())
  await t.resolves(ack.confirm('{behind}:written'), 'the test cluster\'s primaries have a replica each')
  t.ok(copies.length > 0, `${copies.length} copies opened`)
  const slot = calculateSlot('{behind}:replica-ack')
  const owner = cluster.slots[slot]?.[0]
  // as after a failover: the write's MOVED taught the app's client where the slot went, not the copies
  for (const copy of copies) copy.slots[slot] = ['127.0.0.1:1']
  await t.resolves(ack.confirm('{behind}:written'), 'asked of the primary the write went to, not refused as elsewhere')
  t.ok(copies.some((copy) => copy.slots[slot]?.[0] === owner), 'the copy lent knows the slot\'s node again')
})

t.test('createReplicaAck on a Cluster: an acknowledgement connection whose primary is still connecting (a promoted replica) waits for it, and is not refused as closed', async (t) => {
  // the app's own client: no offline queue, so a command meeting a connection still opening is refused at once
  const cluster = createRedisClient(loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES ?? '' })) as Cluster
  t.teardown(() => cluster.quit())
  await cluster.connect()
  await connectEveryNode(cluster, 2000)
  await cluster.set('{opening}:written', '1', 'PX', 1000)
  const copies = keepCopies(cluster)
  const ack = createReplicaAck(cluster, { replicas: 1, timeoutMs: 1000 })
  t.teardown(() => ack.close())
  await t.resolves(ack.confirm('{opening}:written'), 'the test cluster\'s primaries have a replica each')
  const owner = cluster.slots[calculateSlot('{opening}:replica-ack')]?.[0]
  const ownerOn = (copy: Cluster) => copy.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === owner)
  // each copy loses its connection to the slot's primary: the node is dropped, and the slot map's refresh makes a
  // new one that connects at its first command, as for a replica the failover promoted
  for (const copy of copies) ownerOn(copy)?.disconnect()
  for (let tries = 0; tries < 100 && !copies.every((copy) => ownerOn(copy)?.status === 'wait'); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.ok(copies.every((copy) => ownerOn(copy)?.status === 'wait'), 'every copy has a new connection to the primary, not opened yet')
  // the refresh of a failover starts opening it (READWRITE on the promoted node): a command meets it connecting
  for (const copy of copies) ownerOn(copy)?.connect().catch(() => {})
  t.ok(copies.every((copy) => ownerOn(copy)?.status === 'connecting'), 'connecting')
  await t.resolves(ack.confirm('{opening}:written'), 'asked once the primary\'s connection is open, within the deadline')
})
