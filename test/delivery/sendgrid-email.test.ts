import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { createDelivery, type DeliverCodeRequest } from '../../src/delivery/delivery.ts'
import { MemoryOutbox } from '../../src/delivery/memory-outbox.ts'
import { sendGridEnv, startFakeSendGrid } from '../helpers/fake-sendgrid.ts'

// What SendGrid receives for a code email: our multipart body or a dynamic template, never tracked, always
// marked automatic, with the magic link only when configured.

const sendGrid = await startFakeSendGrid()
t.teardown(() => sendGrid.close())
t.beforeEach(() => sendGrid.reset())

const CHALLENGE = '0195f3c2-7d4e-7a61-9c1b-2f8e4d6a9b01'
const request: DeliverCodeRequest = {
  channel: 'email', to: 'jane@example.org', code: '482913', challengeId: CHALLENGE, locale: 'en', purpose: 'login', expiresInSeconds: 300
}

async function sent (env: Record<string, string>, overrides: Partial<DeliverCodeRequest> = {}) {
  const delivery = createDelivery(loadConfig({ NODE_ENV: 'test', REDIS_URL: 'redis://127.0.0.1:1', ...sendGridEnv(sendGrid), ...env }), { outbox: new MemoryOutbox() })
  await delivery.deliverCode({ ...request, ...overrides })
  const body = sendGrid.accepted().at(-1)?.body
  if (!body) throw new Error('SendGrid received nothing')
  return body
}

const part = (body: { content: Array<{ type: string, value: string }> }, type: string) => body.content.find((item) => item.type === type)?.value ?? ''

t.test('multipart: both parts carry the code; the HTML escapes a malicious APP_NAME, the text keeps it as written', async (t) => {
  const body = await sent({ APP_NAME: 'Evil <img src=x onerror=alert(1)> & "Co"' })
  t.same(body.content.map((item: { type: string }) => item.type), ['text/plain', 'text/html'])
  t.match(part(body, 'text/plain'), /\n482913\n/)
  t.match(part(body, 'text/html'), />482913</)
  t.notMatch(part(body, 'text/html'), /<img/)
  t.match(part(body, 'text/html'), /Evil &lt;img src&#x3D;x onerror&#x3D;alert\(1\)&gt; &amp; &quot;Co&quot;/)
  t.match(part(body, 'text/plain'), /Evil <img src=x onerror=alert\(1\)> & "Co"/)
  t.equal(body.subject, 'Your Evil <img src=x onerror=alert(1)> & "Co" verification code')
  t.equal(body.template_id, undefined)
})

t.test('every email: click and open tracking off, and Auto-Submitted: auto-generated', async (t) => {
  for (const env of [{}, { SENDGRID_TEMPLATE_ID: 'd-0123abcd' }] as Array<Record<string, string>>) {
    const body = await sent(env)
    t.same(body.tracking_settings, {
      click_tracking: { enable: false, enable_text: false }, open_tracking: { enable: false }
    })
    t.same(body.headers, { 'Auto-Submitted': 'auto-generated' })
  }
})

t.test('no magic link unless MAGIC_LINK_URL is set', async (t) => {
  const body = await sent({})
  t.notMatch(JSON.stringify(body.content), /challengeId|https?:/)
})

t.test('with MAGIC_LINK_URL, both parts carry MAGIC_LINK_URL#challengeId=…&code=…, the values in the fragment', async (t) => {
  const body = await sent({ MAGIC_LINK_URL: 'https://app.example.com/auth/callback' })
  const link = `https://app.example.com/auth/callback#challengeId=${CHALLENGE}&code=482913`
  t.ok(part(body, 'text/plain').includes(link), 'the text part')
  t.ok(part(body, 'text/html').includes(`href="https://app.example.com/auth/callback#challengeId&#x3D;${CHALLENGE}&amp;code&#x3D;482913"`), 'the HTML part, as an attribute')
  const url = new URL(link)
  t.equal(url.search, '', 'nothing in the query, which a server would log')
  t.same(Object.fromEntries(new URLSearchParams(url.hash.slice(1))), { challengeId: CHALLENGE, code: '482913' })
})

t.test('the link keeps MAGIC_LINK_URL\'s own query, and is left out where the sign-in page can not verify the code', async (t) => {
  const body = await sent({ MAGIC_LINK_URL: 'https://app.example.com/cb?tenant=a' })
  t.ok(part(body, 'text/plain').includes(`https://app.example.com/cb?tenant=a#challengeId=${CHALLENGE}&code=482913`))
  const contact = await sent({ MAGIC_LINK_URL: 'https://app.example.com/cb' }, { purpose: 'verify_contact' })
  t.notMatch(JSON.stringify(contact.content), /challengeId/, 'a contact code is verified elsewhere')
})

t.test('SENDGRID_TEMPLATE_ID: the dynamic template with { code, minutes, appName, link } instead of our body', async (t) => {
  const body = await sent({ SENDGRID_TEMPLATE_ID: 'd-0123abcd', APP_NAME: 'Acme', MAGIC_LINK_URL: 'https://app.example.com/cb' })
  t.equal(body.template_id, 'd-0123abcd')
  t.same(body.personalizations, [{
    to: [{ email: 'jane@example.org' }],
    dynamic_template_data: { code: '482913', minutes: 5, appName: 'Acme', link: `https://app.example.com/cb#challengeId=${CHALLENGE}&code=482913` }
  }])
  t.equal(body.content, undefined, 'no body of ours')
  t.equal(body.subject, undefined, 'the template has its subject')
  const withoutLink = await sent({ SENDGRID_TEMPLATE_ID: 'd-0123abcd', APP_NAME: 'Acme' })
  t.same(withoutLink.personalizations[0].dynamic_template_data, { code: '482913', minutes: 5, appName: 'Acme', link: null })
})

t.test('SENDGRID_TEMPLATE_ID per language: the locale\'s, else the bare one, else English\'s', async (t) => {
  const perLanguage = { SENDGRID_TEMPLATE_ID: 'en:d-english,fr:d-french' }
  t.equal((await sent(perLanguage, { locale: 'fr-CA' })).template_id, 'd-french')
  t.equal((await sent(perLanguage, { locale: 'de' })).template_id, 'd-english')
  t.equal((await sent(perLanguage, { locale: null })).template_id, 'd-english')
  const withDefault = { SENDGRID_TEMPLATE_ID: 'fr:d-french, d-default' }
  t.equal((await sent(withDefault, { locale: 'de' })).template_id, 'd-default')
  const frenchOnly = { SENDGRID_TEMPLATE_ID: 'fr:d-french' }
  const german = await sent(frenchOnly, { locale: 'de' })
  t.equal(german.template_id, undefined, 'no template for German: our own body')
  t.match(part(german, 'text/plain'), /Ihr Bestätigungscode/)
})
