import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, codeFromOutbox, login, newEmail, newPhone, outboxOf } from '../helpers/login.ts'
import { manualClock } from '../helpers/totp.ts'

const UNDO_URL = 'https://app.example/account/undo'
const DAY_MS = 86_400_000

function undoApp (t: Parameters<typeof buildTestApp>[0], { clock, stores = 'real' }: { clock?: ReturnType<typeof manualClock>, stores?: 'real' | 'memory' } = {}) {
  return buildTestApp(t, {
    stores,
    loadShedding: false,
    limiter: false,
    outbox: true,
    // access tokens take their iat from the real clock: only the test of the 7 days moves one
    ...(clock ? { now: clock.now } : {}),
    env: { OTP_RESEND_COOLDOWN_SECONDS: '0', IDENTIFIER_UNDO_URL: UNDO_URL }
  })
}

/** Changes the email of a freshly signed-in session (no step-up needed); the notice the old address got. */
async function changeEmail (app: FastifyInstance, accessToken: string, oldEmail: string, newAddress: string) {
  const headers = bearer(accessToken)
  const started = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers, payload: { email: newAddress } })
  if (started.statusCode !== 202) throw new Error(`contacts answered ${started.statusCode}: ${started.body}`)
  const code = await codeFromOutbox(app, newAddress)
  const changed = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { challengeId: started.json().challengeId, code } })
  if (changed.statusCode !== 200) throw new Error(`verify answered ${changed.statusCode}: ${changed.body}`)
  const messages = (await outboxOf(app, oldEmail)).json().messages as Array<{ code: string, text: string }>
  const notice = messages.find((message) => message.text.includes('changed'))
  if (notice === undefined) throw new Error('no notice in the old address\'s outbox')
  return notice
}

const undo = (app: FastifyInstance, token: string) => app.inject({ method: 'POST', url: '/v1/auth/identifier/undo', payload: { token } })
const tokenIn = (text: string) => {
  const link = text.split(/\s/).find((word) => word.startsWith(`${UNDO_URL}#`))
  if (link === undefined) throw new Error(`no undo link in: ${text}`)
  return new URLSearchParams(new URL(link).hash.slice(1)).get('token') ?? ''
}

for (const stores of ['real', 'memory'] as const) {
  t.test(`${stores} stores: the old address follows the link of its notice: the old email is back, every session ends, the link works once`, async (t) => {
    const app = await undoApp(t, { stores })
    const oldEmail = newEmail('undo-old')
    const newAddress = newEmail('undo-new')
    const current = await login(app, { email: oldEmail })
    const other = await login(app, { email: oldEmail })
    const notice = await changeEmail(app, current.accessToken, oldEmail, newAddress)
    t.equal(notice.code, '', 'the notice carries no code')
    t.match(notice.text, `${UNDO_URL}#token=`, 'the notice carries the link, its token in the fragment')
    const token = tokenIn(notice.text)
    t.match(token, /^[\w-]{43}$/, '256 random bits')

    const undone = await undo(app, token)
    t.equal(undone.statusCode, 204, undone.body)
    t.equal(undone.body, '', 'no token comes back')
    t.equal((await app.users.findById(current.user.id))?.email, oldEmail, 'the old email is back')
    t.equal(await app.users.findByIdentifier('email', newAddress), null, 'the new one is released')
    for (const session of [current, other]) {
      const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })
      t.equal(refreshed.statusCode, 401, 'refresh refused: the session ended')
      t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 401, 'the access token is refused')
    }
    const again = await undo(app, token)
    t.equal(again.statusCode, 410, 'a second use is refused')
    t.equal(again.json().code, 'undo_link_invalid')
    const back = await login(app, { email: oldEmail })
    t.equal(back.user.id, current.user.id, 'the owner signs in with the old email again')
    const activity = await app.inject({ method: 'GET', url: '/v1/me/activity', headers: bearer(back.accessToken) })
    t.equal(activity.statusCode, 200, activity.body)
    const events = activity.json().events as Array<{ type: string, reason: string | null }>
    t.ok(events.some((event) => event.type === 'contact_changed' && event.reason === 'email_restored'), 'the undo is in the activity log')
  })
}

t.test('a replaced phone number gets the link by SMS, and following it restores the number', async (t) => {
  const app = await undoApp(t)
  const oldPhone = newPhone()
  const newNumber = newPhone()
  const session = await login(app, { phone: oldPhone })
  const headers = bearer(session.accessToken)
  const started = await app.inject({ method: 'POST', url: '/v1/me/contacts', headers, payload: { phone: newNumber } })
  t.equal(started.statusCode, 202, started.body)
  const code = await codeFromOutbox(app, newNumber)
  const changed = await app.inject({ method: 'POST', url: '/v1/me/contacts/verify', headers, payload: { challengeId: started.json().challengeId, code } })
  t.equal(changed.statusCode, 200, changed.body)
  const messages = (await outboxOf(app, oldPhone)).json().messages as Array<{ code: string, text: string }>
  const notice = messages.find((message) => message.text.includes('changed'))
  t.ok(notice, 'the old number is told')
  t.equal(notice?.code, '', 'with no code')
  t.match(notice?.text, `${UNDO_URL}#token=`, 'the SMS carries the undo link')
  const undone = await undo(app, tokenIn(notice?.text ?? ''))
  t.equal(undone.statusCode, 204, undone.body)
  t.equal((await app.users.findById(session.user.id))?.phone, oldPhone, 'the old number is back')
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers })).statusCode, 401, 'and the session ended')
})

for (const stores of ['real', 'memory'] as const) {
  t.test(`${stores} stores: the link is valid 7 days, and a token we never issued is refused the same way`, async (t) => {
    const clock = manualClock()
    const app = await undoApp(t, { clock, stores })
    const oldEmail = newEmail('undo-late')
    const session = await login(app, { email: oldEmail })
    const token = tokenIn((await changeEmail(app, session.accessToken, oldEmail, newEmail('undo-late-new'))).text)
    clock.advance(7 * DAY_MS + 1000)
    const late = await undo(app, token)
    t.equal(late.statusCode, 410, 'after 7 days')
    t.equal(late.json().code, 'undo_link_invalid')
    const forged = await undo(app, 'A'.repeat(43))
    t.equal(forged.statusCode, 410, 'a token we never issued')
    t.equal(forged.json().code, 'undo_link_invalid')
    t.equal((await undo(app, 'short')).statusCode, 400, 'not a token at all: validation')
    t.not((await app.users.findById(session.user.id))?.email, oldEmail, 'nothing restored')
  })
}

t.test('an old address another account has taken since is not taken back: 409 conflict', async (t) => {
  const app = await undoApp(t)
  const oldEmail = newEmail('undo-taken')
  const session = await login(app, { email: oldEmail })
  const token = tokenIn((await changeEmail(app, session.accessToken, oldEmail, newEmail('undo-taken-new'))).text)
  const squatter = await login(app, { email: oldEmail })
  t.not(squatter.user.id, session.user.id, 'a new account holds the old address')
  const refused = await undo(app, token)
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, 'conflict')
  t.equal((await app.users.findByIdentifier('email', oldEmail))?.id, squatter.user.id, 'the other account keeps it')
})

t.test('without IDENTIFIER_UNDO_URL the route refuses every token', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  t.equal((await undo(app, 'A'.repeat(43))).statusCode, 410)
})
