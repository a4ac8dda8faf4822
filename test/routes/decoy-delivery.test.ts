import t from 'tap'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildTestApp } from '../helpers/build-app.ts'
import { sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'
import { deliveriesSettled, newEmail } from '../helpers/login.ts'

// Security round 3, point 2: with SIGNUP=closed an unknown address gets a decoy. A process that sends (the API's
// in-process worker) must be kept as busy, as long, by a decoy's job as by a real one, or the request after a code
// request tells accounts apart. So a decoy's job holds the worker about as long as the provider takes.
const PROVIDER_MS = 300

t.test('SIGNUP=closed: a decoy\'s job holds the worker as long as a real send, over HTTP, and reaches no provider', async (t) => {
  const sendgrid = await startFakeSendGrid()
  t.teardown(() => sendgrid.close())
  sendgrid.answerAlways({ status: 202, delayMs: PROVIDER_MS })
  const app = await buildTestApp(t, { loadShedding: false, env: { ...sendGridEnv(sendgrid), SIGNUP: 'closed' } })
  const known = newEmail('known')
  await app.users.findOrCreateByIdentifier('email', known)

  const busyFor = async (email: string) => {
    const answered = await app.inject({ method: 'POST', url: '/v1/auth/otp', payload: { email } })
    t.equal(answered.statusCode, 202)
    const began = performance.now()
    // wait until the worker has taken the job, then until it lets go of it
    await sleep(1)
    await deliveriesSettled(app)
    return performance.now() - began
  }
  const real = await busyFor(known)
  t.equal(sendgrid.accepted().length, 1, 'the account\'s code was sent')
  const decoy = await busyFor(newEmail('nobody'))
  t.equal(sendgrid.accepted().length, 1, 'the decoy reached no provider')
  t.ok(real >= PROVIDER_MS * 0.9, `a real send holds the worker for the provider's time (${Math.round(real)} ms)`)
  t.ok(decoy >= PROVIDER_MS * 0.9, `so does a decoy's job (${Math.round(decoy)} ms), where it used to be dropped at once`)
})
