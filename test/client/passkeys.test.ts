import t from 'tap'
import { createClient, memoryStorage, OtpGateError } from '../../client/src/index.ts'
import { listeningApp, MODES } from '../helpers/client.ts'
import { codeFromOutbox, newEmail } from '../helpers/login.ts'
import { newAuthenticator, PASSKEY_ENV } from '../helpers/passkeys.ts'
import { claimsOf } from '../helpers/totp.ts'
import { installWebAuthn } from '../helpers/webauthn-browser.ts'

const refusal = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error as OtpGateError)

for (const stores of MODES) {
  t.test(`${stores} stores: passkeys.register, list, rename, remove; auth.signInWithPasskey; refusals typed`, async (t) => {
    const { app, baseUrl } = await listeningApp(t, { stores, loadShedding: false, outbox: true, env: PASSKEY_ENV })
    const browser = installWebAuthn(t, newAuthenticator())
    const client = createClient({ baseUrl, storage: memoryStorage() })
    const email = newEmail('client-passkey')
    const { challengeId } = await client.auth.startOtp({ email })
    await client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))

    const added = await client.passkeys.register('Laptop')
    t.match(added, { id: String, name: 'Laptop', createdAt: String, lastUsedAt: null })
    t.same((await client.passkeys.list()).map(({ id }) => id), [added.id])
    t.equal((await client.passkeys.rename(added.id, 'Work laptop')).name, 'Work laptop')

    browser.cancelNext()
    const cancelled = await refusal(client.passkeys.register())
    t.ok(cancelled instanceof OtpGateError, 'an OtpGateError')
    t.match(cancelled, { code: 'passkey_cancelled', status: 0 }, 'a closed prompt')

    await client.auth.logout()
    const user = await client.auth.signInWithPasskey()
    t.equal(user.email, email, 'signed in with the passkey alone')
    t.same(claimsOf(await client.auth.getAccessToken() ?? '').amr, ['webauthn'])

    await client.passkeys.remove(added.id)
    t.same(await client.passkeys.list(), [])
    await client.auth.logout()
    const refused = await refusal(client.auth.signInWithPasskey())
    t.match(refused, { code: 'invalid_passkey', status: 401 }, 'a removed passkey is refused')
    t.equal(await client.auth.isSignedIn(), false)
  })
}

t.test('without WebAuthn in the browser: passkey_unsupported, before asking the API', async (t) => {
  const { baseUrl } = await listeningApp(t, { stores: 'memory', loadShedding: false, env: PASSKEY_ENV })
  const client = createClient({ baseUrl, storage: memoryStorage() })
  t.match(await refusal(client.auth.signInWithPasskey()), { code: 'passkey_unsupported', status: 0 })
  t.match(await refusal(client.auth.signInWithPasskey({ conditional: true })), { code: 'passkey_unsupported' })
})
