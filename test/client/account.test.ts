import t from 'tap'
import { createClient, memoryStorage, OtpGateError, type AuthChangeEvent } from '../../client/src/index.ts'
import { listeningApp, MODES } from '../helpers/client.ts'
import { codeFromOutbox, newEmail } from '../helpers/login.ts'
import { REPEAT_LOGIN_ENV } from '../helpers/totp.ts'

for (const stores of MODES) {
  t.test(`${stores} stores: me.export() is the user's data; me.delete() deletes the account and signs out`, async (t) => {
    const { app, baseUrl } = await listeningApp(t, { stores, loadShedding: false, outbox: true, env: REPEAT_LOGIN_ENV })
    const client = createClient({ baseUrl, storage: memoryStorage() })
    const events: AuthChangeEvent[] = []
    client.onAuthChange((event) => events.push(event))
    const email = newEmail('client-delete')
    const signIn = async () => {
      const { challengeId } = await client.auth.startOtp({ email })
      const result = await client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))
      if (result.mfaRequired) throw new Error('no second factor expected')
      return result.user
    }
    const user = await signIn()
    const data = await client.me.export()
    t.match(data, { user: { id: user.id, email }, identifiers: [{ kind: 'email', value: email }], authenticator: { status: 'none' } })

    await client.me.delete()
    t.same(events.at(-1), { type: 'signed_out', reason: 'logout' })
    t.equal(await client.auth.isSignedIn(), false)
    const error = await client.me.get().catch((caught: unknown) => caught)
    t.ok(error instanceof OtpGateError)
    t.not((await signIn()).id, user.id, 'signing in again creates a new account')
  })
}
