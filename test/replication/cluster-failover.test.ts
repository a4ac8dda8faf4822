import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { startRedisSet } from '../helpers/redis-sets.ts'
import {
  assertEveryChallengeVerifies, assertOnlyRetriableFailures, assertStillRevoked, revokedSession, startsDuring
} from '../helpers/failover-load.ts'

type Slots = Array<[number, number, [string, number, string], ...Array<[string, number, string]>]>

// A Cluster of this file's own (3 primaries, a replica each), so the node it kills is no other test's.
t.test('a Cluster primary killed during sign-ins, its replica promoted, at REDIS_WAIT_REPLICAS=1: no 500, nothing lost, no revoked session back', async (t) => {
  const set = await startRedisSet(t, 'cluster')
  const ports = (set.env.REDIS_CLUSTER_NODES ?? '').split(',').map((node) => Number(node.split(':')[1]))
  const app = await buildTestApp(t, {
    outbox: true,
    limiter: false,
    loadShedding: false,
    // DELIVERY_LOCK_MS: a job whose completion went down with the killed primary is sent again quickly
    env: { REDIS_CLUSTER_NODES: set.env.REDIS_CLUSTER_NODES ?? '', REDIS_WAIT_REPLICAS: '1', DELIVERY_LOCK_MS: '1000' }
  })
  const revoked = await revokedSession(t, app)

  // the primary of the delivery queue's slot: every enqueue, and a third of the challenges, live there
  const [first = 0] = ports
  const survivor = set.node(first)
  const slot = Number(await survivor.call('CLUSTER', 'KEYSLOT', 'delivery'))
  const owner = async (clientPort: number) => {
    const slots = await set.node(clientPort).call('CLUSTER', 'SLOTS') as Slots
    return slots.find(([start, end]) => start <= slot && slot <= end)?.[2][1]
  }
  const victim = await owner(first)
  t.ok(victim, `the primary of slot ${slot} is on port ${victim}`)
  const asker = ports.find((port) => port !== victim) ?? first
  let restarted = false

  const { answers, started, recovered } = await startsDuring(app, {
    fault: async () => { set.kill(Number(victim)) },
    // promoted, then the killed node back (as the new primary's replica), so writes can be acknowledged again
    recovered: async () => {
      const promoted = await owner(asker).catch(() => undefined)
      if (promoted === undefined || promoted === victim) return false
      if (!restarted) {
        await set.restart(Number(victim))
        restarted = true
      }
      const replication = await set.node(Number(victim)).info('replication').catch(() => '')
      return replication.includes('master_link_status:up')
    }
  })
  t.ok(recovered, 'the replica took over and the killed node came back as its replica')
  assertOnlyRetriableFailures(t, answers)
  t.ok(started.length > 0, `${started.length} challenges acknowledged`)
  await assertEveryChallengeVerifies(t, app, started)
  await assertStillRevoked(t, app, revoked)
})
