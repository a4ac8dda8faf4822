import t, { type Test } from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.ts'
import { createDelivery } from '../../src/delivery/delivery.ts'
import { MemoryOutbox } from '../../src/delivery/memory-outbox.ts'
import { renderCodeEmail, renderNoticeSms, TemplateError } from '../../src/delivery/templates/render.ts'

/** A templates folder with these files (`fr/code.html.hbs`: source) in a fresh directory of the test. */
function templatesDir (t: Test, files: Record<string, string>): string {
  const dir = t.testdir()
  for (const [name, source] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), source)
  }
  return dir
}

/** Delivery as the server builds it at start-up, with the embedded mode's outbox for both channels. */
const deliveryWith = (env: Record<string, string>) =>
  createDelivery(loadConfig({ NODE_ENV: 'test', APP_NAME: 'Acme', ...env }), { outbox: new MemoryOutbox() })

/** The one-line error start-up would print. */
function startupError (env: Record<string, string>): string {
  try {
    deliveryWith(env)
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error
    return error.message
  }
  throw new Error('expected the templates to be refused')
}

const input = { locale: 'fr', appName: 'Acme', code: '482913', expiresInSeconds: 300 }

t.test('a file in EMAIL_TEMPLATES_DIR replaces the built-in one of that name; the others stay', async (t) => {
  const dir = templatesDir(t, {
    'fr/code.subject.hbs': 'Connexion à {{appName}}\n',
    'fr/code.html.hbs': '<!doctype html><html lang="{{lang}}"><p class="mine" style="color: {{brandColor}}">{{code}} — {{appName}}</p></html>\n'
  })
  const delivery = deliveryWith({ EMAIL_TEMPLATES_DIR: dir, APP_NAME: '<Acme>', BRAND_COLOR: '#112233' })
  const email = renderCodeEmail({ ...input, appName: '<Acme>' }, delivery.templates)
  t.equal(email.subject, 'Connexion à <Acme>')
  t.equal(email.html, '<!doctype html><html lang="fr"><p class="mine" style="color: #112233">482913 — &lt;Acme&gt;</p></html>\n', 'escaped by the engine')
  t.match(email.text, /Votre code de vérification <Acme> est :/, 'the built-in text part')
  t.match(renderCodeEmail({ ...input, locale: 'en' }, delivery.templates).html, /Your Acme verification code is:/, 'other languages untouched')
})

t.test('a partial replaces the built-in one: one layout for every language', async (t) => {
  const dir = templatesDir(t, { 'partials/layout.html.hbs': '<main class="brand">{{> @partial-block}}</main>' })
  const { templates } = deliveryWith({ EMAIL_TEMPLATES_DIR: dir })
  for (const locale of ['en', 'fr', 'de']) {
    const { html } = renderCodeEmail({ ...input, locale }, templates)
    t.match(html, /^<main class="brand">/, locale)
    t.match(html, /482913/)
  }
})

t.test('a new language: its own files, English for the parts it lacks', async (t) => {
  const dir = templatesDir(t, { 'es/code.subject.hbs': 'Tu código de {{appName}}', 'es/code.sms.hbs': 'Tu código de {{appName}} es {{code}}' })
  const { templates } = deliveryWith({ EMAIL_TEMPLATES_DIR: dir, SMS_ALLOW_MULTIPART: 'true' })
  t.equal(renderCodeEmail({ ...input, locale: 'es-MX' }, templates).subject, 'Tu código de Acme')
  t.match(renderCodeEmail({ ...input, locale: 'es' }, templates).text, /Your Acme verification code is:/)
  t.ok(templates.languages.includes('es'))
})

t.test('notices are overridable too', async (t) => {
  const dir = templatesDir(t, { 'de/login_throttled.sms.hbs': '{{appName}}: {{plural minutes one="# Minute" other="# Minuten"}} Pause.' })
  const { templates } = deliveryWith({ EMAIL_TEMPLATES_DIR: dir })
  t.equal(renderNoticeSms({ kind: 'login_throttled', locale: 'de', appName: 'Acme', minutes: 15 }, templates), 'Acme: 15 Minuten Pause.')
})

t.test('start-up refuses a broken template with one line naming the file', async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp, Record<string, string>?]> = [
    ['a syntax error', { 'fr/code.html.hbs': '<p>{{code}</p>' }, /fr\/code\.html\.hbs: Parse error on line 1/],
    ['an unknown variable', { 'en/code.text.hbs': 'Code: {{code}}\n{{#if lnk}}{{lnk}}{{/if}}' }, /en\/code\.text\.hbs: unknown variable "lnk" at 2:7, "lnk" at 2:14/],
    ['a variable of another kind', { 'en/login_throttled.subject.hbs': '{{code}}' }, /login_throttled\.subject\.hbs: unknown variable "code"/],
    ['a code template without the code', { 'de/code.sms.hbs': 'Ihr Code für {{appName}}.' }, /de\/code\.sms\.hbs: the message must show the code/],
    ['unescaped output in HTML', { 'en/code.html.hbs': '<p>{{code}} {{{appName}}}</p>' }, /en\/code\.html\.hbs: unescaped output \{\{\{appName\}\}\} at 1:13/],
    ['an unknown helper', { 'en/code.html.hbs': '{{code}} {{uppercase appName}}' }, /en\/code\.html\.hbs: .*unknown helper uppercase/],
    ['a missing partial', { 'en/code.html.hbs': '{{code}} {{> footer}}' }, /en\/code\.html\.hbs: The partial footer could not be found/],
    ['a misspelt file name', { 'en/code.htm.hbs': '{{code}}' }, /en\/code\.htm\.hbs: expected <kind>\.<part>\.hbs/],
    ['a stray file', { 'README.md': 'notes' }, /README\.md: expected only language folders/],
    ['an SMS of two segments', { 'en/code.sms.hbs': `{{code}} ${'x'.repeat(160)}` }, /en\/code\.sms\.hbs: the SMS takes 1\d\d GSM-7 characters, 2 segments/],
    ['a change notice without its undo link', { 'en/identifier_changed.sms.hbs': 'Your {{appName}} number changed to {{maskedIdentifier}}.' }, /en\/identifier_changed\.sms\.hbs: the notice must carry the undo link/],
    ['a change notice of two segments without a link', { 'en/identifier_changed.sms.hbs': `{{maskedIdentifier}} ${'x'.repeat(160)}{{#if undoLink}} {{undoLink}}{{/if}}` }, /en\/identifier_changed\.sms\.hbs: the SMS takes 1\d\d GSM-7 characters, 2 segments/],
    ['an SMS in UCS-2', { 'fr/login_throttled.sms.hbs': 'Connexion suspendue {{minutes}} min, rien à craindre : ça ira.' }, /fr\/login_throttled\.sms\.hbs: the SMS needs UCS-2/],
    ['an email without the magic link while MAGIC_LINK_URL is set', { 'en/code.text.hbs': 'Code: {{code}}' }, /en\/code\.text\.hbs: MAGIC_LINK_URL is set, so the email must carry the link/, { MAGIC_LINK_URL: 'https://app.example/auth/callback' }]
  ]
  for (const [name, files, expected, env] of cases) {
    const message = startupError({ EMAIL_TEMPLATES_DIR: templatesDir(t, files), ...env })
    t.match(message, expected, name)
    t.notMatch(message, /\n/, `${name}: one line`)
  }
  t.match(startupError({ EMAIL_TEMPLATES_DIR: '/nonexistent/templates' }), /template \/nonexistent\/templates: cannot read the folder \(ENOENT\)/)
})

t.test('a long SMS is accepted with SMS_ALLOW_MULTIPART=true, or when SMS is off', async (t) => {
  const files = { 'en/code.sms.hbs': `{{code}} ${'x'.repeat(160)}` }
  t.ok(deliveryWith({ EMAIL_TEMPLATES_DIR: templatesDir(t, files), SMS_ALLOW_MULTIPART: 'true' }))
  const smsOff = { REDIS_URL: 'redis://127.0.0.1:1', EMAIL_TEMPLATES_DIR: templatesDir(t, files) }
  t.equal(deliveryWith(smsOff).offChannels.includes('sms'), true)
})

t.test('the configuration decides the checks: the longest code and the Web OTP line count toward the segment', async (t) => {
  const dir = templatesDir(t, { 'en/code.sms.hbs': `Code {{code}}. ${'x'.repeat(145)}` })
  t.ok(deliveryWith({ EMAIL_TEMPLATES_DIR: dir, OTP_CODE_LENGTH: '4' }), '4 digits fit')
  t.match(startupError({ EMAIL_TEMPLATES_DIR: dir, OTP_CODE_LENGTH: '10' }), /2 segments/, '10 digits do not')
  t.match(startupError({ EMAIL_TEMPLATES_DIR: dir, OTP_CODE_LENGTH: '4', WEBOTP_DOMAIN: 'login.example.com' }), /2 segments/, 'nor with the Web OTP line')
  t.match(startupError({ APP_NAME: 'São Paulo Bank' }), /built-in\/\w+\/\w+\.sms\.hbs: the SMS needs UCS-2/, 'an APP_NAME outside GSM-7 fails the built-in SMS')
})

t.test('branding settings are validated', async (t) => {
  t.throws(() => loadConfig({ BRAND_COLOR: 'red;background:url(x)' }), /BRAND_COLOR/)
  t.throws(() => loadConfig({ BRAND_LOGO_URL: 'http://cdn.example/logo.png' }), /BRAND_LOGO_URL/)
  t.throws(() => loadConfig({ BRAND_LOGO_URL: 'javascript:alert(1)' }), /BRAND_LOGO_URL/)
  t.throws(() => loadConfig({ SUPPORT_EMAIL: 'not an address' }), /SUPPORT_EMAIL/)
  t.throws(() => loadConfig({ MAGIC_LINK_URL: 'https://app.example/cb#x' }), /MAGIC_LINK_URL/)
  t.throws(() => loadConfig({ SENDGRID_TEMPLATE_ID: 'template-1' }), /SENDGRID_TEMPLATE_ID/)
  t.match(loadConfig({ SENDGRID_TEMPLATE_ID: 'en:d-abc, fr:d-def,d-ghi', BRAND_COLOR: '#AABBCC' }), { SENDGRID_TEMPLATE_ID: 'en:d-abc, fr:d-def,d-ghi', BRAND_COLOR: '#AABBCC' })
})

t.test('each language keeps its own plural forms and writing direction, whatever rendered before it', async (t) => {
  const dir = templatesDir(t, {
    'pl/login_throttled.sms.hbs': '{{appName}}: {{plural minutes one="# minuta" few="# minuty" many="# minut" other="# minuty"}} {{dir}}',
    'ar/login_throttled.subject.hbs': '{{appName}} {{dir}} {{lang}}'
  })
  const { templates } = deliveryWith({ EMAIL_TEMPLATES_DIR: dir })
  const sms = (locale: string, minutes: number) => renderNoticeSms({ kind: 'login_throttled', locale, appName: 'Acme', minutes }, templates)
  const english = sms('en', 2)
  t.match(english, /2 minutes/)
  // Polish: 1 one, 2–4 and 22 few, 5 and 12 many; English in between
  t.same([1, 2, 5, 12, 22].map((minutes) => sms('pl', minutes)), [
    'Acme: 1 minuta ltr', 'Acme: 2 minuty ltr', 'Acme: 5 minut ltr', 'Acme: 12 minut ltr', 'Acme: 22 minuty ltr'
  ])
  t.equal(sms('en', 2), english)
  t.equal(sms('en', 1).includes('1 minute') && !sms('en', 1).includes('1 minutes'), true)
  t.equal(templates.render('login_throttled', 'subject', 'ar', { appName: 'Acme', minutes: 3 }), 'Acme rtl ar')
  t.equal(templates.render('login_throttled', 'subject', 'en', { appName: 'Acme', minutes: 3 }).includes('rtl'), false)
})
