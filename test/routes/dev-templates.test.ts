import t from 'tap'
import { buildTestApp, requireEnv } from '../helpers/build-app.ts'
import { testMongoUrl } from '../helpers/mongo.ts'
import { sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'

const preview = (app: Awaited<ReturnType<typeof buildTestApp>>, url: string) => app.inject({ method: 'GET', url })

t.test('embedded mode: the email of a locale as HTML, with sample values and the branding', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { APP_NAME: 'Acme <Co>', MAGIC_LINK_URL: 'https://app.example.com/cb', SUPPORT_EMAIL: 'help@acme.example' } })
  const response = await preview(app, '/v1/dev/templates/fr-CA/email')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/html; charset=utf-8/)
  t.equal(response.headers['content-language'], 'fr')
  t.match(response.body, /<html lang="fr"/)
  t.match(response.body, /Votre code de vérification Acme &lt;Co&gt; est :/)
  t.match(response.body, />012345</, 'a sample code of OTP_CODE_LENGTH digits')
  t.match(response.body, /href="https:\/\/app\.example\.com\/cb#challengeId/, 'the magic link, as configured')
  t.match(response.body, /mailto:help@acme\.example/)
  t.equal(response.headers['cache-control'], 'no-store')
})

t.test('the SMS exactly as sent, with its encoding and segment count', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { WEBOTP_DOMAIN: 'login.example.com' } })
  const response = await preview(app, '/v1/dev/templates/de/sms')
  t.equal(response.statusCode, 200)
  const text = 'Ihr Code für otp-gate lautet 012345. Er ist 5 Minuten gültig. Nicht weitergeben.\n\n@login.example.com #012345'
  t.same(response.json(), { text, encoding: 'GSM-7', characters: [...text].length, segments: 1 })
})

t.test('the notices, by kind; an unknown language previews English and says so', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { OTP_LOCKOUT_SECONDS: '900' } })
  const throttled = await preview(app, '/v1/dev/templates/en/sms?kind=login_throttled')
  t.match(throttled.json(), { text: /wrong codes.*15 minutes/, segments: 1 })
  const changed = await preview(app, '/v1/dev/templates/pt-BR/email?kind=identifier_changed&changed=sms')
  t.equal(changed.headers['content-language'], 'en')
  t.match(changed.body, /phone number of your otp-gate account was just changed to <strong>\+44\*+0123<\/strong>/)
  t.match((await preview(app, '/v1/dev/templates/fr/email?kind=identifier_changed')).body, /adresse e-mail/)
})

t.test('bad parameters are a 400 in the problem format', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  for (const url of ['/v1/dev/templates/en/fax', '/v1/dev/templates/en/email?kind=welcome', '/v1/dev/templates/en<script>/email']) {
    const response = await preview(app, url)
    t.equal(response.statusCode, 400, url)
    t.equal(response.json().code, 'validation_failed')
  }
})

t.test('absent, and undocumented, where the dev outbox is', async (t) => {
  const sendGrid = await startFakeSendGrid()
  t.teardown(() => sendGrid.close())
  const app = await buildTestApp(t, {
    loadShedding: false,
    env: { REDIS_URL: requireEnv('REDIS_URL'), MONGODB_URL: testMongoUrl(t), ...sendGridEnv(sendGrid), VONAGE_API_KEY: 'k', VONAGE_API_SECRET: 's', SMS_FROM: 'Acme' }
  })
  const response = await preview(app, '/v1/dev/templates/en/email')
  t.equal(response.statusCode, 404)
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.notOk(document.paths['/v1/dev/templates/{locale}/{channel}'])
})

t.test('documented beside the dev outbox', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  const operation = document.paths['/v1/dev/templates/{locale}/{channel}']?.get
  t.equal(operation?.operationId, 'previewDevTemplate')
  t.same(Object.keys(operation?.responses['200'].content ?? {}).toSorted(), ['application/json', 'text/html'])
  t.same(operation?.tags, ['dev'])
})
