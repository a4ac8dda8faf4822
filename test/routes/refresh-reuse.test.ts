import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'

const refresh = (app: FastifyInstance, refreshToken: string) => app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken } })

t.test('any refresh token ever issued for a session, presented after its rotation, ends the session, whatever its age', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { REFRESH_REUSE_GRACE_SECONDS: '0' } })
  const first = await login(app, { email: newEmail() })
  let latest = first
  for (let rotation = 0; rotation < 25; rotation++) {
    const answer = await refresh(app, latest.refreshToken)
    t.equal(answer.statusCode, 200)
    latest = answer.json()
  }
  const reuse = await refresh(app, first.refreshToken)
  t.equal(reuse.statusCode, 401)
  t.equal(reuse.json().code, 'token_reused', 'the first token, 25 rotations old, is reuse')
  t.equal((await refresh(app, latest.refreshToken)).statusCode, 401, 'the session is ended: its latest token is dead')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(latest.accessToken) })).statusCode, 401, 'and its access token')
})

t.test('within REFRESH_REUSE_GRACE_SECONDS, refreshes of one token get the same pair of the same session; after it, reuse', async (t) => {
  let clock = Date.now()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, now: () => new Date(clock) })
  const session = await login(app, { email: newEmail() })
  const tabs = await Promise.all([refresh(app, session.refreshToken), refresh(app, session.refreshToken)])
  t.same(tabs.map((tab) => tab.statusCode), [200, 200], 'two tabs refreshing at once both get a pair')
  const [one, two] = tabs.map((tab) => tab.json())
  t.equal(one.refreshToken, two.refreshToken, 'the same successor')
  clock += 9_000
  const late = await refresh(app, session.refreshToken)
  t.equal(late.statusCode, 200, '9 s later, still within the default 10 s')
  t.equal(late.json().refreshToken, one.refreshToken, 'the same successor again')
  const next = await refresh(app, one.refreshToken)
  t.equal(next.statusCode, 200, 'the successor rotates')
  clock += 11_000
  const reuse = await refresh(app, one.refreshToken)
  t.equal(reuse.json().code, 'token_reused', 'after the grace a used token is reuse')
  t.equal((await refresh(app, next.json().refreshToken)).statusCode, 401, 'and ends the session')
})
