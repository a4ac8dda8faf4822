import t from 'tap'
import { createClient, memoryStorage, OtpGateError, type AuthChangeEvent, type StoredTokens } from '../../client/src/index.ts'
import { expiredTwin, listeningApp, MODES, type ListeningApp } from '../helpers/client.ts'
import { codeFromOutbox, newEmail } from '../helpers/login.ts'

/** A client signed in through the whole flow; its tokens are what its storage holds. */
async function signedInClient ({ app, baseUrl }: ListeningApp, options: { now?: () => number } = {}) {
  const storage = memoryStorage()
  const client = createClient({ baseUrl, storage, ...options })
  const email = newEmail('client-refresh')
  const { challengeId } = await client.auth.startOtp({ email })
  await client.auth.verifyOtp(challengeId, await codeFromOutbox(app, email))
  const tokens = await storage.get()
  if (tokens === null) throw new Error('not signed in')
  return { client, storage, tokens }
}

/** POST /v1/auth/token/refresh, as someone holding a copy of the token would. */
const presentRefreshToken = (baseUrl: string, refreshToken: string) => fetch(`${baseUrl}/v1/auth/token/refresh`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken })
})

const twenty = <T>(call: () => Promise<T>) => Promise.all(Array.from({ length: 20 }, call))

for (const stores of MODES) {
  t.test(`${stores} stores: 20 concurrent calls with an access token the server finds expired make one refresh`, async (t) => {
    const server = await listeningApp(t, { stores, loadShedding: false, outbox: true })
    const { tokens } = await signedInClient(server)
    // a client resuming a stored session whose access token has expired, although the stored expiry says otherwise
    const storage = memoryStorage()
    await storage.set({ ...tokens, accessToken: expiredTwin(server.app, tokens.accessToken) })
    const client = createClient({ baseUrl: server.baseUrl, storage })
    const events: AuthChangeEvent[] = []
    client.onAuthChange((event) => events.push(event))
    const before = server.refreshes()

    const users = await twenty(() => client.me.get())
    t.equal(users.filter((user) => user.id === users[0]?.id).length, 20, 'every call answered, after its retry')
    t.equal(server.refreshes() - before, 1, 'exactly one refresh reached the server')
    t.same(events, [{ type: 'refreshed' }])
    t.not((await storage.get())?.refreshToken, tokens.refreshToken, 'the storage holds the new pair')
    t.equal((await twenty(() => client.me.sessions())).length, 20)
    t.equal(server.refreshes() - before, 1, 'and later calls use it')
  })

  t.test(`${stores} stores: 20 concurrent calls at the stored expiry refresh once, ahead of the call`, async (t) => {
    const server = await listeningApp(t, { stores, loadShedding: false, outbox: true })
    let clock = Date.now()
    const { client, storage, tokens } = await signedInClient(server, { now: () => clock })
    clock = tokens.expiresAt - 29_000 // within the default 30 s margin
    const before = server.refreshes()
    await twenty(() => client.me.get())
    t.equal(server.refreshes() - before, 1, 'one refresh for twenty callers')
    const next = await storage.get() as StoredTokens
    t.not(next.refreshToken, tokens.refreshToken)
    t.equal(next.expiresAt, clock + 900_000, 'the new expiry counts from the answer')
    clock = next.expiresAt - 31_000
    await twenty(() => client.me.get())
    t.equal(server.refreshes() - before, 1, 'outside the margin, no refresh')
  })
}

t.test('a stolen refresh token replayed after its rotation ends the session: the client signs out and says so', async (t) => {
  const server = await listeningApp(t, { loadShedding: false, outbox: true, env: { REFRESH_REUSE_GRACE_SECONDS: '0' } })
  const { client, storage, tokens: stolen } = await signedInClient(server)
  const events: AuthChangeEvent[] = []
  client.onAuthChange((event) => events.push(event))
  await client.auth.refresh()
  const replay = await presentRefreshToken(server.baseUrl, stolen.refreshToken)
  t.equal(replay.status, 401)
  t.equal((await replay.json() as { code: string }).code, 'token_reused', 'the server sees the reuse and ends the session')

  const refused = await client.me.get().catch((error: unknown) => error)
  t.ok(refused instanceof OtpGateError, 'the call fails with a typed error')
  t.match(refused, { status: 401 })
  t.same(events, [{ type: 'refreshed' }, { type: 'signed_out', reason: 'session_ended' }], 'onAuthChange says signed_out')
  t.equal(await storage.get(), null, 'the tokens are gone')
  t.equal(await client.auth.isSignedIn(), false)
})

t.test('a client presenting a refresh token someone else already rotated is signed out with token_reused', async (t) => {
  const server = await listeningApp(t, { loadShedding: false, outbox: true, env: { REFRESH_REUSE_GRACE_SECONDS: '0' } })
  const { client, storage, tokens } = await signedInClient(server)
  const events: AuthChangeEvent[] = []
  client.onAuthChange((event) => events.push(event))
  const thief = await presentRefreshToken(server.baseUrl, tokens.refreshToken)
  t.equal(thief.status, 200, 'the thief rotates first')
  const refused = await client.auth.refresh().catch((error: unknown) => error)
  t.match(refused, { code: 'token_reused', status: 401 })
  t.same(events, [{ type: 'signed_out', reason: 'session_ended' }])
  t.equal(await storage.get(), null)
})
