import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { login, newEmail } from '../helpers/login.ts'
import { manualClock } from '../helpers/totp.ts'

const refresh = (app: Awaited<ReturnType<typeof buildTestApp>>, refreshToken: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })

t.test('a session has an absolute lifetime: refreshing keeps it alive only until SESSION_MAX_AGE_SECONDS', async (t) => {
  const clock = manualClock()
  const started = clock.ms()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: { SESSION_MAX_AGE_SECONDS: '3600', REFRESH_TOKEN_TTL_SECONDS: '86400' } })
  let { refreshToken, user } = await login(app, { email: newEmail('lifetime') })
  // a refresh every 20 minutes keeps the sliding window open, never past the hour
  for (let minutes = 20; minutes < 60; minutes += 20) {
    clock.steps(40)
    const answer = await refresh(app, refreshToken)
    t.equal(answer.statusCode, 200, `refresh at ${minutes} min`)
    refreshToken = answer.json().refreshToken
  }
  const [session] = await app.sessions.listActive(user.id, clock.now())
  t.ok(session !== undefined && session.expiresAt.getTime() <= started + 3600_000, 'the sliding expiry never passes the absolute one')
  clock.steps(40)
  const late = await refresh(app, refreshToken)
  t.equal(late.statusCode, 401, 'at 60 min: the session is over, however recently it was used')
})

t.test('an idle timeout, when set, ends a session not refreshed for that long', async (t) => {
  const clock = manualClock()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: clock.now, env: { SESSION_IDLE_TIMEOUT_SECONDS: '600' } })
  const { refreshToken } = await login(app, { email: newEmail('idle') })
  clock.steps(19)
  const kept = await refresh(app, refreshToken)
  t.equal(kept.statusCode, 200, 'used within 10 minutes')
  clock.steps(21)
  t.equal((await refresh(app, kept.json().refreshToken)).statusCode, 401, 'idle for 10.5 minutes')
})
