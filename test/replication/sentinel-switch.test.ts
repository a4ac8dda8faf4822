import t from 'tap'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { followSentinelSwitches } from '../../src/stores/sentinel-switch.ts'
import { DisposableRedis } from '../helpers/redis-server.ts'

// A plain Redis stands in for a Sentinel here: the announcement is a message on `+switch-master`, which a test can
// publish there; what is checked is what the client does with it.
t.test('followSentinelSwitches: an announcement for our master reconnects the client at once; another name does nothing', async (t) => {
  const [server, sentinel] = await Promise.all([DisposableRedis.start(), DisposableRedis.start()])
  t.teardown(() => Promise.all([server.stop(), sentinel.stop()]))
  const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, retryStrategy: () => 10 })
  followSentinelSwitches(client, [{ host: '127.0.0.1', port: sentinel.port }], 'otp-gate')
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

  const reconnected = once(client, 'ready')
  await publisher.publish('+switch-master', `otp-gate 127.0.0.1 1 127.0.0.1 ${server.port}`)
  await reconnected
  t.equal(reconnections, 1, 'our master\'s switch: reconnected (and asks the Sentinels anew)')
  t.equal(await client.ping(), 'PONG')

  // the subscriptions end with the client: nothing keeps the process alive
  await client.quit()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(Number((await publisher.pubsub('NUMSUB', '+switch-master') as [string, number])[1]), 0, 'no subscription left')
})
