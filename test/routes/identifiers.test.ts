import t from 'tap'
import { randomBytes } from 'node:crypto'
import { buildTestApp } from '../helpers/build-app.ts'
import { login, startLogin } from '../helpers/login.ts'

t.test('one identifier, one account: the Unicode, punycode and compatibility spellings of an address sign in to the same user', async (t) => {
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } })
  const local = `jane-${randomBytes(4).toString('hex')}`
  const first = await login(app, { email: `${local}@bücher.example` })
  t.equal(first.user.email, `${local}@xn--bcher-kva.example`, 'stored in the ASCII form')
  for (const spelling of [`${local}@xn--bcher-kva.example`, `${local.toUpperCase()}@BÜCHER.EXAMPLE`, `${local}\uff20b\u00fccher.example`]) {
    const again = await login(app, { email: spelling })
    t.equal(again.user.id, first.user.id, spelling)
  }
})

t.test('an address with a mail-routing character is a 400 naming body.email', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const response = await startLogin(app, { email: 'alice%example.com@relay.example' })
  t.equal(response.statusCode, 400)
  t.match(response.json(), { code: 'validation_failed', errors: [{ field: 'body.email' }] })
})
