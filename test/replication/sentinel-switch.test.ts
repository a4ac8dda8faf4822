import t from 'tap'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { ANNOUNCEMENT_MEMORY_MS, AnnouncedMaster, followSentinelSwitches } from '../../src/stores/sentinel-switch.ts'
import { DisposableRedis } from '../helpers/redis-server.ts'
import { eventually } from '../helpers/eventually.ts'

// A plain Redis stands in for a Sentinel here: the announcement is a message on `+switch-master`, which a test can
// publish there; what is checked is what the client does with it.
t.test('followSentinelSwitches: an announcement for our master reconnects the client at once; another name does nothing', async (t) => {
  const [server, sentinel] = await Promise.all([DisposableRedis.start(), DisposableRedis.start()])
  t.teardown(() => Promise.all([server.dispose(), sentinel.dispose()]))
  const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, retryStrategy: () => 10 })
  followSentinelSwitches(client, [{ host: '127.0.0.1', port: sentinel.port }], new AnnouncedMaster('otp-gate'))
  await client.connect()
  const publisher = new Redis({ host: '127.0.0.1', port: sentinel.port })
  t.teardown(() => publisher.disconnect())
  // the subscription is made in the background: wait until the stand-in counts it
  while (Number((await publisher.pubsub('NUMSUB', '+switch-master') as [string, number])[1]) === 0) await new Promise((resolve) => setTimeout(resolve, 10))

  let reconnections = 0
  client.on('reconnecting', () => { reconnections++ })
  // PUBLISH is answered once the message is on its way to every subscriber: a moment later, it has been read
  await publisher.publish('+switch-master', 'other-set 127.0.0.1 1 127.0.0.1 2')
  await new Promise((resolve) => setTimeout(resolve, 100))
  await client.ping()
  t.equal(reconnections, 0, 'another master\'s switch: the client stays')

  // (the client here is not a Sentinel client: it reconnects to the same server, which is enough to see the move)
  let reconnected = once(client, 'ready')
  await publisher.publish('+switch-master', `otp-gate 127.0.0.1 1 127.0.0.1 ${server.port + 1}`)
  await reconnected
  t.equal(reconnections, 1, 'our master\'s switch: reconnected (and asks the Sentinels anew)')
  t.equal(await client.ping(), 'PONG')

  // the Sentinel running a failover announces the promotion first, the failover's end comes later
  reconnected = once(client, 'ready')
  await publisher.publish('+promoted-slave', `slave 127.0.0.1:${server.port + 2} 127.0.0.1 ${server.port + 2} @ otp-gate 127.0.0.1 1`)
  await reconnected
  t.equal(reconnections, 2, 'a promotion of our master\'s replica: reconnected at once')

  // every Sentinel announces the same switch, each when it hears of it: a client already there stays
  await publisher.publish('+switch-master', `otp-gate 127.0.0.1 1 127.0.0.1 ${server.port}`)
  await new Promise((resolve) => setTimeout(resolve, 100))
  await client.ping()
  t.equal(reconnections, 2, 'an announcement of the master the client is on: no reconnection')

  // the subscriptions end with the client: nothing keeps the process alive
  await client.quit()
  // the subscriber's connection closes after the client's: asked until it is gone, for five seconds at most
  const subscribers = async () => Number((await publisher.pubsub('NUMSUB', '+switch-master') as [string, number])[1])
  t.ok(await eventually(async () => await subscribers() === 0, 5000), 'no subscription left')
})

t.test('AnnouncedMaster: the old master a Sentinel may still name is mapped to the announced one, for a while', async (t) => {
  let now = 0
  const announced = new AnnouncedMaster('otp-gate', () => now)
  t.equal(announced.natMap('10.0.0.1:6379'), null, 'nothing announced: every address kept')

  t.equal(announced.record('+switch-master', 'other-set 10.0.0.1 6379 10.0.0.2 6379'), null, 'another name: ignored')
  t.equal(announced.natMap('10.0.0.1:6379'), null)

  t.same(announced.record('+switch-master', 'otp-gate 10.0.0.1 6379 10.0.0.2 6380'), { host: '10.0.0.2', port: 6380 })
  t.same(announced.natMap('10.0.0.1:6379'), { host: '10.0.0.2', port: 6380 }, 'the old master: the new one instead')
  t.equal(announced.natMap('10.0.0.2:6380'), null, 'the new master: kept')
  t.equal(announced.natMap('10.0.0.3:6379'), null, 'any other: kept')

  now += ANNOUNCEMENT_MEMORY_MS + 1
  t.equal(announced.natMap('10.0.0.1:6379'), null, 'forgotten later: a failover back there that went unheard is not hidden')

  t.same(announced.record('+promoted-slave', 'slave 10.0.0.1:6379 10.0.0.1 6379 @ otp-gate 10.0.0.2 6380'), { host: '10.0.0.1', port: 6379 })
  t.same(announced.natMap('10.0.0.2:6380'), { host: '10.0.0.1', port: 6379 }, 'a promotion maps its master the same way')
  t.equal(announced.natMap('10.0.0.1:6379'), null, 'the latest announcement replaces the one before')
  t.equal(announced.record('+promoted-slave', 'slave 10.0.0.4:6379 10.0.0.4 6379 @ other-set 10.0.0.2 6380'), null)
  t.equal(announced.record('+switch-master', 'otp-gate'), null, 'a malformed message: ignored')
})
