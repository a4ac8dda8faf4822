import t from 'tap'
import {
  builtInTemplates, DEFAULT_BRANDING, languageOf, loadMessageTemplates, renderCodeEmail, renderCodeSms,
  renderNoticeEmail, renderNoticeSms, renderSignInLinkEmail, renderSignInLinkSms
} from '../../src/delivery/templates/render.ts'
import { codeMessage } from '../../src/delivery/delivery-messages.ts'
import { textColorOn } from '../../src/delivery/templates/message-templates.ts'
import { gsm7Septets, GSM7_SINGLE_SEGMENT_SEPTETS, smsSegments } from '../../src/delivery/gsm7.ts'

const base = { appName: 'otp-gate', code: '482913', expiresInSeconds: 300 }
const LANGUAGES = ['en', 'fr', 'de']

t.test('the locale picks the language: region and case ignored, unknown or none gives English', async (t) => {
  t.equal(languageOf('fr-CA'), 'fr')
  t.equal(languageOf('FR_ca'), 'fr')
  t.equal(languageOf(null), 'en')
  t.equal(languageOf(''), 'en')
  t.same(builtInTemplates().languages, LANGUAGES.toSorted())
  t.match(renderCodeEmail({ ...base, locale: 'de-AT' }).html, /<html lang="de" dir="ltr">/)
  t.match(renderCodeEmail({ ...base, locale: 'pt-BR' }).html, /<html lang="en"/, 'a language without templates gets English')
})

t.test('the email says the code, the app name and the lifetime, in the language, in both parts', async (t) => {
  const en = renderCodeEmail({ ...base, locale: null })
  t.equal(en.subject, 'Your otp-gate verification code')
  t.match(en.text, /Your otp-gate verification code is:\n\n482913\n\nIt expires in 5 minutes\./)
  t.match(en.html, /<html lang="en"/)
  t.match(en.html, /<title>Your otp-gate verification code<\/title>/)
  t.match(en.html, /class="code"[^>]*font-family: ui-monospace[^>]*user-select: all[^>]*>482913</, 'large, monospaced, selectable')

  const fr = renderCodeEmail({ ...base, locale: 'fr-CA' })
  t.equal(fr.subject, 'Votre code de vérification otp-gate')
  t.match(fr.text, /482913/)
  t.match(fr.text, /Il expire dans 5 minutes\./)
  t.match(fr.html, /<html lang="fr"/)

  const de = renderCodeEmail({ ...base, locale: 'de' })
  t.match(de.text, /Ihr Bestätigungscode für otp-gate lautet:/)
  t.match(de.text, /Er ist 5 Minuten gültig\./)
})

t.test('the HTML stands alone: no external stylesheet, no script, no image unless a logo is configured', async (t) => {
  for (const language of LANGUAGES) {
    const { html } = renderCodeEmail({ ...base, locale: language, link: 'https://app.example/cb#challengeId=c&code=482913' })
    t.notMatch(html, /<link|<script|<img|url\(/i, language)
    t.match(html, /<meta name="color-scheme" content="light dark">/, 'dark mode is declared')
    t.match(html, /prefers-color-scheme: dark/)
    // whatever reads the code out of the message (a mail client's autofill, a test) takes the first such number
    t.same(html.match(/\b\d{6}\b/g)?.filter((number) => number !== '482913'), [], `${language}: no other six-digit number, colours included`)
  }
  const branded = loadMessageTemplates({ branding: { ...DEFAULT_BRANDING, logoUrl: 'https://cdn.example/logo.png' } })
  t.match(renderCodeEmail({ ...base, locale: 'en' }, branded).html, /<img src="https:\/\/cdn\.example\/logo\.png" alt="otp-gate"/, 'the logo, with the name as alt text')
})

t.test('the lifetime is rounded up to whole minutes, singular for one', async (t) => {
  t.match(renderCodeEmail({ ...base, locale: 'en', expiresInSeconds: 90 }).text, /2 minutes/)
  t.match(renderCodeEmail({ ...base, locale: 'en', expiresInSeconds: 60 }).text, /expires in 1 minute\./)
  t.match(renderCodeEmail({ ...base, locale: 'de', expiresInSeconds: 60 }).text, /1 Minute gültig/)
  t.match(renderCodeSms({ ...base, locale: 'fr', expiresInSeconds: 600, webOtpDomain: undefined }), /10 minutes/)
})

t.test('values are escaped in the HTML, and only there', async (t) => {
  const email = renderCodeEmail({ ...base, appName: 'Tom & Jerry <script>"\'`=', locale: 'fr' })
  t.notMatch(email.html, /<script>/)
  t.match(email.html, /Tom &amp; Jerry &lt;script&gt;&quot;&#x27;&#x60;&#x3D;/)
  t.match(email.text, /Tom & Jerry <script>/)
  t.match(email.subject, /Tom & Jerry <script>/)
  const branded = loadMessageTemplates({ branding: { brandColor: '#fafafa', logoUrl: 'https://cdn.example/a.png?x="><script>', supportEmail: 'help@example.org' } })
  const html = renderCodeEmail({ ...base, locale: 'en', link: 'https://app.example/cb#challengeId=c&code=482913' }, branded).html
  t.notMatch(html, /<script>/)
  t.match(html, /href="https:\/\/app\.example\/cb#challengeId&#x3D;c&amp;code&#x3D;482913"/, 'the link, escaped as an attribute')
  t.match(html, /color: #000;/, 'dark text on a light brand colour')
  t.match(html, /mailto:help@example\.org/)
})

t.test('the magic link appears only when given, in both parts', async (t) => {
  const link = 'https://app.example/auth/callback#challengeId=c-1&code=482913'
  for (const language of LANGUAGES) {
    const withLink = renderCodeEmail({ ...base, locale: language, link })
    t.ok(withLink.text.includes(link), `${language}: text`)
    t.match(withLink.html, /<a href="https:\/\/app\.example\/auth\/callback#/, `${language}: a button`)
    const without = renderCodeEmail({ ...base, locale: language })
    t.notMatch(without.text + without.html, /https?:/, `${language}: no link at all without one`)
  }
})

t.test('the brand text colour is whichever of black and white reads better', async (t) => {
  t.equal(textColorOn('#1d4ed8'), '#fff')
  t.equal(textColorOn('#ffeb3b'), '#000')
  t.equal(textColorOn('#000000'), '#fff')
})

t.test('the SMS says the code, the app name and the lifetime, and ends with the Web OTP line', async (t) => {
  const sms = renderCodeSms({ ...base, locale: 'en', webOtpDomain: 'login.example.com' })
  t.equal(sms, 'Your otp-gate code is 482913. It expires in 5 minutes. Never share it.\n\n@login.example.com #482913')
  t.notMatch(renderCodeSms({ ...base, locale: 'en', webOtpDomain: undefined }), /@|#/, 'no Web OTP line without a domain')
  t.match(renderCodeSms({ ...base, locale: 'de', webOtpDomain: undefined }), /Ihr Code für otp-gate lautet 482913/)
})

t.test('every locale\'s SMS is GSM-7 and fits one segment with a 10-digit code and a long domain', async (t) => {
  const worst = { appName: 'Example Accounts Login', code: '0123456789', expiresInSeconds: 600, webOtpDomain: 'accounts.login.example-company.com' }
  for (const language of LANGUAGES) {
    const sms = renderCodeSms({ ...worst, locale: language })
    const septets = gsm7Septets(sms)
    t.not(septets, null, `${language}: only GSM-7 characters`)
    t.ok((septets ?? Infinity) <= GSM7_SINGLE_SEGMENT_SEPTETS, `${language}: ${septets} septets`)
    t.ok(sms.endsWith('\n\n@accounts.login.example-company.com #0123456789'), `${language}: Web OTP line last`)
  }
})

t.test('segments: 160 GSM-7 septets in one, 153 per part beyond; UCS-2 70, then 67', async (t) => {
  t.same(smsSegments('a'.repeat(160)), { encoding: 'GSM-7', units: 160, segments: 1 })
  t.same(smsSegments('a'.repeat(161)), { encoding: 'GSM-7', units: 161, segments: 2 })
  t.same(smsSegments('€'.repeat(80)), { encoding: 'GSM-7', units: 160, segments: 1 }, 'the euro sign costs two septets')
  t.same(smsSegments('ç'.repeat(70)), { encoding: 'UCS-2', units: 70, segments: 1 })
  t.same(smsSegments('ç'.repeat(71)), { encoding: 'UCS-2', units: 71, segments: 2 })
})

t.test('identifier_changed: every locale names the channel and the masked new identifier, and whom to contact', async (t) => {
  const support = loadMessageTemplates({ branding: { ...DEFAULT_BRANDING, supportEmail: 'help@acme.example' } })
  for (const language of LANGUAGES) {
    for (const channel of ['email', 'sms'] as const) {
      const input = { kind: 'identifier_changed' as const, locale: language, appName: 'Acme <Co>', channel, maskedIdentifier: channel === 'email' ? 'j***@new.example' : '+33******0123' }
      const email = renderNoticeEmail(input, support)
      for (const part of [email.text, email.html]) {
        t.ok(part.includes(input.maskedIdentifier), `${language}/${channel}: the new identifier`)
        t.ok(part.includes('help@acme.example'), `${language}/${channel}: the support address`)
      }
      t.match(email.html, /Acme &lt;Co&gt;/, 'escaped in HTML')
      t.notMatch(email.subject, /&lt;/, 'not in the subject')
      const sms = renderNoticeSms(input, support)
      t.ok(sms.includes(input.maskedIdentifier) && sms.includes('help@acme.example'), `${language}/${channel}: ${sms}`)
      t.same(smsSegments(sms).segments, 1, `${language}/${channel}: one segment`)
      t.equal(smsSegments(sms).encoding, 'GSM-7')
    }
    const withoutSupport = renderNoticeEmail({ kind: 'identifier_changed', locale: language, appName: 'Acme', channel: 'email', maskedIdentifier: 'j***@x.example' })
    t.notMatch(withoutSupport.text, /@acme|mailto/, `${language}: no address made up without SUPPORT_EMAIL`)
  }
  t.match(renderNoticeEmail({ kind: 'identifier_changed', locale: 'en', appName: 'Acme', channel: 'sms', maskedIdentifier: '+1***' }).subject, /Your Acme phone number was changed/)
  t.match(renderNoticeEmail({ kind: 'identifier_changed', locale: 'fr', appName: 'Acme', channel: 'email', maskedIdentifier: 'x' }).subject, /L’adresse e-mail .* modifiée/)
})

t.test('login_throttled: every locale says someone tried wrong codes, the wait, and that nothing is to be done', async (t) => {
  const words: Record<string, RegExp> = { en: /wrong codes.*nothing to do.*protected/s, fr: /codes erronés.*rien à faire.*protégé/s, de: /falsche Codes.*nichts tun.*geschützt/s }
  for (const language of LANGUAGES) {
    const input = { kind: 'login_throttled' as const, locale: language, appName: 'Acme', minutes: 60 }
    const email = renderNoticeEmail(input)
    t.match(email.text, words[language] as RegExp, `${language}: text`)
    t.match(email.text, /60 (minutes|Minuten)/, `${language}: the wait`)
    t.match(email.html, /60 (minutes|Minuten)/)
    t.ok(email.subject.length > 0)
    const sms = renderNoticeSms({ ...input, minutes: 1440 })
    t.match(sms, /1440/)
    t.same(smsSegments(sms), { ...smsSegments(sms), encoding: 'GSM-7', segments: 1 }, `${language}: ${sms}`)
  }
  t.match(renderNoticeSms({ kind: 'login_throttled', locale: 'en', appName: 'Acme', minutes: 1 }), /1 minute\./, 'singular')
  t.throws(() => renderNoticeSms({ kind: 'login_throttled', locale: 'en', appName: 'Acme' }), TypeError)
  t.throws(() => renderNoticeEmail({ kind: 'identifier_changed', locale: 'en', appName: 'Acme', channel: 'sms' }), TypeError)
})

t.test('sign_in_link: every locale carries the link in every part but the subject, and no code; without a link it says codes are paused', async (t) => {
  const link = 'https://app.example.com/sign-in#token=3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA'
  for (const language of LANGUAGES) {
    const input = { locale: language, appName: 'Acme', expiresInSeconds: 300, link }
    const email = renderSignInLinkEmail(input)
    t.ok(email.text.includes(link) && email.html.includes(link.replaceAll('=', '&#x3D;')), `${language}: the link in the email`)
    t.match(email.subject, /Acme/)
    t.ok(renderSignInLinkSms(input).includes(link), `${language}: the link in the SMS`)
    t.notMatch(email.text, /\b\d{6}\b/, 'no code')
    const paused = renderSignInLinkSms({ ...input, link: null })
    t.notMatch(paused, /https:/, `${language}: without MAGIC_LINK_URL, no link`)
    t.equal(smsSegments(paused).segments, 1, 'and one segment')
  }
})

t.test('a code request carrying a link token is rendered as the sign-in link, by email and by SMS', async (t) => {
  const settings = { appName: 'Acme', templates: builtInTemplates(), magicLinkUrl: 'https://app.example.com/sign-in' }
  const request = { to: 'jane@example.org', code: '', linkToken: 'T0KEN', locale: null, purpose: 'login', expiresInSeconds: 300 }
  const email = codeMessage({ ...request, channel: 'email' }, settings) as { text: string }
  t.match(email.text, /https:\/\/app\.example\.com\/sign-in#token=T0KEN/)
  const sms = codeMessage({ ...request, channel: 'sms', to: '+12015550123' }, settings) as { text: string }
  t.match(sms.text, /#token=T0KEN/)
})
