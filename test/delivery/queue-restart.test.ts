import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { deliveriesSettled, newEmail } from '../helpers/login.ts'
import { dumpKeys, uniqueKeyPrefix } from '../helpers/redis.ts'

const JOBS = 500

t.test(`the API closed (as on SIGTERM) with ${JOBS} codes queued: a restarted one sends each once, none lost, none in the clear`, async (t) => {
  const sendgrid = await startFakeSendGrid()
  t.teardown(() => sendgrid.close())
  // slow enough that most jobs are still waiting when the first instance closes, however slow the machine queues
  // them (ten at a time: 5 sends a second), and some are in flight; within SHUTDOWN_GRACE_MS
  sendgrid.answerAlways({ status: 202, delayMs: 2000 })
  const redisKeyPrefix = uniqueKeyPrefix('restart')
  const env = {
    ...sendGridEnv(sendgrid),
    DELIVERY_CONCURRENCY: '10',
    // ten digits: a code found in Redis is the code, not a chance run of digits in a hash or a timestamp
    OTP_CODE_LENGTH: '10',
    SHUTDOWN_GRACE_MS: '5000',
    // shared by both instances, as by every instance of a deployment: the job key derives from it
    OTP_PEPPER: 'restart-test-pepper-0123456789abcdefghij'
  }
  const first = await buildTestApp(t, { limiter: false, loadShedding: false, redisKeyPrefix, env })
  const emails = Array.from({ length: JOBS }, () => newEmail('restart'))
  for (const email of emails) {
    const response = await first.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email } })
    if (response.statusCode !== 202) throw new Error(`start answered ${response.statusCode}: ${response.body}`)
  }
  const redis = first.redis!
  const queuedAtClose = await first.deliveryQueue.pending()
  const snapshots = [await dumpKeys(redis, redisKeyPrefix)]
  t.ok(queuedAtClose > JOBS / 2, `most jobs still queued when the first instance closes (${queuedAtClose})`)
  await first.close()
  const sentByFirst = sendgrid.accepted().length
  t.ok(sentByFirst < JOBS, `the first instance sent ${sentByFirst}, finishing those in flight`)
  t.equal(sendgrid.requests.length, sentByFirst, 'every request it started was answered before it closed')

  sendgrid.answerAlways({ status: 202 })
  const second = await buildTestApp(t, { limiter: false, loadShedding: false, redisKeyPrefix, env })
  snapshots.push(await dumpKeys(second.redis!, redisKeyPrefix))
  await deliveriesSettled(second, 60_000)

  const sentTo = sendgrid.accepted().map((request) => request.body.personalizations[0].to[0].email as string)
  t.equal(sentTo.length, JOBS, 'every code sent')
  t.equal(new Set(sentTo).size, JOBS, 'each once')
  t.same(new Set(sentTo), new Set(emails), 'to the addresses that asked')
  t.same(await second.deliveryQueue.failed(), [], 'none failed')
  const codes = sendgrid.accepted().map((request) => JSON.stringify(request.body.content).match(/\b(\d{10})\b/)?.[1])
  t.ok(codes.every((code) => code !== undefined), 'each message carries its code')
  snapshots.push(await dumpKeys(second.redis!, redisKeyPrefix))
  const leaked = codes.filter((code) => snapshots.some((snapshot) => new RegExp(`(?<!\\d)${code}(?!\\d)`).test(snapshot)))
  t.same(leaked, [], 'no code in the clear in any key or job of Redis, before, during or after')
})
