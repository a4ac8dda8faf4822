import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { BullMqDeliveryQueue } from '../../src/delivery/bullmq-delivery-queue.ts'
import { freePort, startDisposableRedis } from '../helpers/disposable-server.ts'

interface Line { fields: Record<string, unknown>, message: string }

t.test('Redis read-only: the worker logs its repeated error once per interval, then how many repeats it left out', async (t) => {
  const redis = await startDisposableRedis()
  t.teardown(() => redis.dispose())
  const client = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false })
  const admin = new Redis(redis.url)
  t.teardown(() => { client.disconnect(); admin.disconnect() })
  const lines: Line[] = []
  const logger = {
    info: () => {},
    warn: (fields: object, message: string) => { lines.push({ fields: fields as Record<string, unknown>, message }) }
  }
  const queue = new BullMqDeliveryQueue({ connection: client, prefix: '{delivery}', concurrency: 5, graceMs: 1000, logger, errorLogIntervalMs: 1000 })
  queue.start(async () => 'sent')
  await sleep(300)

  await admin.replicaof('127.0.0.1', await freePort())
  t.teardown(async () => {
    await admin.replicaof('NO', 'ONE')
    await queue.close()
  })
  await sleep(2500)

  const errors = lines.filter(({ message }) => /error/.test(message))
  const seen = errors.map(({ message, fields }) => `${message} ${String((fields.err as Error | undefined)?.message).slice(0, 40)} ${String(fields.suppressed ?? '')}`)
  t.ok(errors.length >= 1, `the error is logged: ${seen.join(' | ')}`)
  // BullMQ retries a failed read every 100 ms: 25 lines in 2.5 s without the limit
  t.ok(errors.length <= 6, `at most one line per second and kind of error in 2.5 s (${errors.length})`)
  const repeats = errors.filter(({ fields }) => typeof fields.suppressed === 'number')
  t.ok(repeats.length >= 1, 'a later line says how many repeats were left out')
  t.ok(repeats.every(({ fields }) => (fields.suppressed as number) >= 1))
})
