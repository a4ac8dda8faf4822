import t from 'tap'
import { Types } from 'mongoose'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'

// A status set by any path other than AccountService.disable (an operator's script, a migration, a console):
// no session is ended and no revocation is written, so only a read of the user can catch it.
const disableInStore = async (app: FastifyInstance, userId: string, stores: 'real' | 'memory') => {
  if (stores === 'memory') {
    await app.users.setStatus(userId, 'disabled')
    return
  }
  const result = await app.mongo!.collection('users').updateOne({ _id: new Types.ObjectId(userId) }, { $set: { status: 'disabled' } })
  if (result.modifiedCount !== 1) throw new Error('the user was not disabled in the database')
}

for (const stores of ['real', 'memory'] as const) {
  t.test(`${stores} stores: a user disabled in the database is refused by refresh and every authenticated route`, async (t) => {
    const app = await buildTestApp(t, { stores, loadShedding: false, outbox: true, env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } })
    const session = await login(app, { email: newEmail('db-disabled') })
    t.equal((await app.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(session.accessToken) })).statusCode, 200, 'live before')

    await disableInStore(app, session.user.id, stores)

    const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })
    t.equal(refreshed.statusCode, 401, 'refresh refused')
    t.equal(refreshed.json().code, 'unauthorized')
    t.notOk(refreshed.json().accessToken, 'no token handed out')
    for (const url of ['/v1/me', '/v1/me/sessions', '/v1/me/totp', '/v1/me/activity']) {
      const answer = await app.inject({ method: 'GET', url, headers: bearer(session.accessToken) })
      t.equal(answer.statusCode, 401, `GET ${url}`)
      t.equal(answer.json().code, 'unauthorized', `GET ${url}: the code of a disabled account`)
    }
    const again = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })
    t.equal(again.statusCode, 401, 'the same refresh token still refused: nothing rotated into a usable pair')
  })
}
