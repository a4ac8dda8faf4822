import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { adminKeyEnv } from '../helpers/admin.ts'
import { addPasskey, newAuthenticator, PASSKEY_ENV, signInOptions, verifyPasskey } from '../helpers/passkeys.ts'

t.test('a registration answers its own user\'s fresh challenge from this site, or 400 invalid_passkey_registration', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, limiter: false, env: PASSKEY_ENV })
  const [jane, joe] = [await login(app, { email: newEmail() }), await login(app, { email: newEmail() })]
  const authenticator = newAuthenticator()
  const optionsOf = async (accessToken: string) => (await app.inject({ method: 'POST', url: '/v1/me/passkeys/options', headers: bearer(accessToken) })).json()
  const register = (accessToken: string, credential: unknown) => app.inject({ method: 'POST', url: '/v1/me/passkeys', headers: bearer(accessToken), payload: { credential } })
  const refused = async (name: string, response: Awaited<ReturnType<typeof register>>) => {
    t.equal(response.statusCode, 400, name)
    t.equal(response.json().code, 'invalid_passkey_registration', name)
  }
  await refused('another user\'s options', await register(jane.accessToken, authenticator.create(await optionsOf(joe.accessToken))))
  await refused('another origin', await register(jane.accessToken, authenticator.create(await optionsOf(jane.accessToken), { origin: 'https://evil.example.net' })))
  await refused('another RP ID', await register(jane.accessToken, authenticator.create(await optionsOf(jane.accessToken), { rpId: 'evil.example.net' })))
  await refused('a challenge never issued', await register(jane.accessToken, authenticator.create(await optionsOf(jane.accessToken), { challenge: 'B'.repeat(43) })))
  const good = authenticator.create(await optionsOf(jane.accessToken))
  t.equal((await register(jane.accessToken, good)).statusCode, 201)
  await refused('a replay', await register(jane.accessToken, good))
  t.equal((await app.inject({ method: 'GET', url: '/v1/me/passkeys', headers: bearer(jane.accessToken) })).json().passkeys.length, 1)
  t.equal((await app.inject({ method: 'GET', url: '/v1/me/passkeys', headers: bearer(joe.accessToken) })).json().passkeys.length, 0)
})

t.test('an account holds at most 10 passkeys: 409 passkey_limit_reached', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, limiter: false, env: PASSKEY_ENV })
  const session = await login(app, { email: newEmail() })
  const headers = bearer(session.accessToken)
  const authenticator = newAuthenticator()
  // options asked for before the tenth is added: answering them is refused at the store
  const spare = (await app.inject({ method: 'POST', url: '/v1/me/passkeys/options', headers })).json()
  for (let count = 0; count < 10; count++) {
    t.equal((await addPasskey(app, session.accessToken, authenticator)).statusCode, 201)
  }
  const options = await app.inject({ method: 'POST', url: '/v1/me/passkeys/options', headers })
  t.equal(options.statusCode, 409)
  t.equal(options.json().code, 'passkey_limit_reached')
  const late = await app.inject({ method: 'POST', url: '/v1/me/passkeys', headers, payload: { credential: authenticator.create(spare) } })
  t.equal(late.statusCode, 409)
  t.equal(late.json().code, 'passkey_limit_reached')
})

t.test('admin: a user\'s passkeys are listed and one is removed; it signs in no more', async (t) => {
  const admin = adminKeyEnv()
  const env = { ...PASSKEY_ENV, ...admin.env }
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, limiter: false, env })
  const session = await login(app, { email: newEmail() })
  const authenticator = newAuthenticator()
  t.equal((await addPasskey(app, session.accessToken, authenticator, 'Old phone')).statusCode, 201)
  const url = `/v1/admin/users/${session.user.id}/passkeys`
  t.equal((await app.inject({ method: 'GET', url })).statusCode, 401, 'an admin key is needed')
  t.equal((await app.inject({ method: 'GET', url, headers: bearer(session.accessToken) })).statusCode, 401, 'an access token is none')
  const list = await app.inject({ method: 'GET', url, headers: admin.headers })
  t.equal(list.statusCode, 200)
  t.match(list.json().passkeys, [{ name: 'Old phone', lastUsedAt: null }])
  t.equal((await app.inject({ method: 'GET', url: '/v1/admin/users/665f1c2b9d3e4a0012345678/passkeys', headers: admin.headers })).statusCode, 404)
  const { id } = list.json().passkeys[0]
  t.equal((await app.inject({ method: 'DELETE', url: `${url}/${id}`, headers: admin.headers })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: `${url}/${id}`, headers: admin.headers })).statusCode, 404)
  const refused = await verifyPasskey(app, authenticator.get(await signInOptions(app)))
  t.equal(refused.statusCode, 401)
  const events = (await app.inject({ method: 'GET', url: '/v1/me/activity', headers: bearer(session.accessToken) })).json().events
  t.ok(events.some((event: { type: string, actor: string | null }) => event.type === 'authenticator_removed' && event.actor === 'admin:ops'), 'the removal names the key')
})

t.test('a disabled user\'s passkey signs in no more: 401 invalid_passkey', async (t) => {
  const admin = adminKeyEnv()
  const env = { ...PASSKEY_ENV, ...admin.env }
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, limiter: false, env })
  const session = await login(app, { email: newEmail() })
  const authenticator = newAuthenticator()
  t.equal((await addPasskey(app, session.accessToken, authenticator)).statusCode, 201)
  const url = `/v1/admin/users/${session.user.id}`
  t.equal((await app.inject({ method: 'PATCH', url, headers: admin.headers, payload: { status: 'disabled' } })).statusCode, 200)
  const refused = await verifyPasskey(app, authenticator.get(await signInOptions(app)))
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'invalid_passkey')
})
