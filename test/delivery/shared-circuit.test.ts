import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildTestApp } from '../helpers/build-app.ts'
import { sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { newEmail, startLogin } from '../helpers/login.ts'
import { uniqueKeyPrefix } from '../helpers/redis.ts'

t.test('an API that does not send (DELIVERY_WORKER=false) refuses a channel while the worker\'s provider keeps failing', async (t) => {
  const sendgrid = await startFakeSendGrid()
  t.teardown(() => sendgrid.close())
  sendgrid.answerAlways({ status: 500, body: { errors: [{ message: 'internal', field: null }] } })
  const redisKeyPrefix = uniqueKeyPrefix('circuit')
  const env = {
    ...sendGridEnv(sendgrid),
    OTP_PEPPER: 'circuit-test-pepper-0123456789abcdefghij',
    DELIVERY_BREAKER_THRESHOLD: '3',
    DELIVERY_RETRY_BASE_MS: '10'
  }
  // two processes' worth of app on one Redis: the API takes requests only, the worker only sends
  const api = await buildTestApp(t, { limiter: false, loadShedding: false, redisKeyPrefix, env: { ...env, DELIVERY_WORKER: 'false' } })
  await buildTestApp(t, { loadShedding: false, redisKeyPrefix, env })

  const first = await startLogin(api, { email: newEmail() })
  t.equal(first.statusCode, 202, 'the request is queued, the worker fails to send it')
  let refused = first
  for (let tries = 0; tries < 100 && refused.statusCode === 202; tries++) {
    await sleep(100)
    refused = await startLogin(api, { email: newEmail() })
  }
  t.equal(refused.statusCode, 503, 'once the worker\'s circuit opened, the API answers 503 for the channel')
  t.match(refused.json(), { code: 'service_unavailable', detail: /email/ })
  t.ok(Number(refused.headers['retry-after']) > 0, 'with Retry-After')
})
