import t from 'tap'
import { renderCodeEmail, renderCodeSms, templateFor, SUPPORTED_LANGUAGES, escapeHtml } from '../../src/delivery/templates/render.ts'
import { gsm7Septets, GSM7_SINGLE_SEGMENT_SEPTETS } from '../../src/delivery/gsm7.ts'

const base = { appName: 'otp-gate', code: '482913', expiresInSeconds: 300 }

t.test('the locale picks the language: region and case ignored, unknown or none gives English', async (t) => {
  t.equal(templateFor('fr').lang, 'fr')
  t.equal(templateFor('fr-CA').lang, 'fr')
  t.equal(templateFor('FR_ca').lang, 'fr')
  t.equal(templateFor('de-AT').lang, 'de')
  t.equal(templateFor('en-GB').lang, 'en')
  t.equal(templateFor('pt-BR').lang, 'en')
  t.equal(templateFor('').lang, 'en')
  t.equal(templateFor(null).lang, 'en')
  t.ok(SUPPORTED_LANGUAGES.length >= 3)
})

t.test('the email says the code, the app name and the lifetime, in the language', async (t) => {
  const en = renderCodeEmail({ ...base, locale: null })
  t.equal(en.subject, 'Your otp-gate verification code')
  t.match(en.text, /Your otp-gate verification code is:\n\n482913\n\nIt expires in 5 minutes\./)
  t.match(en.html, /<html lang="en">/)
  t.match(en.html, />482913</)

  const fr = renderCodeEmail({ ...base, locale: 'fr-CA' })
  t.equal(fr.subject, 'Votre code de vérification otp-gate')
  t.match(fr.text, /482913/)
  t.match(fr.text, /Il expire dans 5 minutes\./)
  t.match(fr.html, /<html lang="fr">/)

  const de = renderCodeEmail({ ...base, locale: 'de' })
  t.match(de.text, /Ihr Bestätigungscode für otp-gate lautet:/)
  t.match(de.text, /Er ist 5 Minuten gültig\./)
})

t.test('the lifetime is rounded up to whole minutes, singular for one', async (t) => {
  t.match(renderCodeEmail({ ...base, locale: 'en', expiresInSeconds: 90 }).text, /2 minutes/)
  t.match(renderCodeEmail({ ...base, locale: 'en', expiresInSeconds: 60 }).text, /expires in 1 minute\./)
  t.match(renderCodeEmail({ ...base, locale: 'de', expiresInSeconds: 60 }).text, /1 Minute gültig/)
  t.match(renderCodeSms({ ...base, locale: 'fr', expiresInSeconds: 600, webOtpDomain: undefined }), /10 minutes/)
})

t.test('the app name is escaped in the HTML body, and only there', async (t) => {
  const email = renderCodeEmail({ ...base, appName: 'Tom & Jerry <script>"\'', locale: 'fr' })
  t.notMatch(email.html, /<script>/)
  t.match(email.html, /Tom &amp; Jerry &lt;script&gt;&quot;&#39;/)
  t.match(email.text, /Tom & Jerry <script>/)
  t.match(email.subject, /Tom & Jerry <script>/)
  t.equal(escapeHtml('a&b'), 'a&amp;b')
})

t.test('template sentences carry no HTML-special characters of their own', async (t) => {
  for (const language of SUPPORTED_LANGUAGES) {
    const template = templateFor(language)
    const values = { appName: 'App', code: '1', minutes: 5 }
    for (const sentence of [template.intro(values), template.expiry(values)]) t.notMatch(sentence, /[<>&"]/, `${language}: ${sentence}`)
  }
})

t.test('the SMS says the code, the app name and the lifetime, and ends with the Web OTP line', async (t) => {
  const sms = renderCodeSms({ ...base, locale: 'en', webOtpDomain: 'login.example.com' })
  t.equal(sms, 'Your otp-gate code is 482913. It expires in 5 minutes. Never share it.\n\n@login.example.com #482913')
  t.notMatch(renderCodeSms({ ...base, locale: 'en', webOtpDomain: undefined }), /@|#/, 'no Web OTP line without a domain')
  t.match(renderCodeSms({ ...base, locale: 'de', webOtpDomain: undefined }), /Ihr Code für otp-gate lautet 482913/)
})

t.test('every locale\'s SMS is GSM-7 and fits one segment with a 10-digit code and a long domain', async (t) => {
  const worst = { appName: 'Example Accounts Login', code: '0123456789', expiresInSeconds: 600, webOtpDomain: 'accounts.login.example-company.com' }
  for (const language of SUPPORTED_LANGUAGES) {
    const sms = renderCodeSms({ ...worst, locale: language })
    const septets = gsm7Septets(sms)
    t.not(septets, null, `${language}: only GSM-7 characters`)
    t.ok((septets ?? Infinity) <= GSM7_SINGLE_SEGMENT_SEPTETS, `${language}: ${septets} septets`)
    t.ok(sms.endsWith('\n\n@accounts.login.example-company.com #0123456789'), `${language}: Web OTP line last`)
  }
})
