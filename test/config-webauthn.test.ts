import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'
import { webAuthnSettings } from '../src/config/webauthn-origins.ts'

const base = { NODE_ENV: 'test' }

t.test('passkeys are off without WEBAUTHN_RP_ID', async (t) => {
  t.equal(webAuthnSettings(loadConfig(base)), null)
})

t.test('the origins default to PUBLIC_BASE_URL and the exact CORS_ORIGINS; the RP name to APP_NAME', async (t) => {
  const config = loadConfig({
    ...base, WEBAUTHN_RP_ID: 'example.org', PUBLIC_BASE_URL: 'https://api.example.org/', CORS_ORIGINS: 'https://app.example.org,https://*.example.org', APP_NAME: 'Acme'
  })
  t.same(webAuthnSettings(config), { rpId: 'example.org', rpName: 'Acme', origins: ['https://api.example.org', 'https://app.example.org'] })
  t.match(webAuthnSettings(loadConfig({ ...base, WEBAUTHN_RP_ID: 'example.org', WEBAUTHN_ORIGINS: 'https://example.org', WEBAUTHN_RP_NAME: 'Acme login' })), {
    rpName: 'Acme login', origins: ['https://example.org']
  })
})

t.test('start-up refuses an RP ID that is not a suffix of every allowed origin\'s host', async (t) => {
  const refused = (env: Record<string, string>, pattern: RegExp) =>
    t.throws(() => loadConfig({ ...base, ...env }), { name: ConfigError.name, message: pattern })
  refused({ WEBAUTHN_RP_ID: 'example.org', WEBAUTHN_ORIGINS: 'https://app.example.org,https://example.com' }, /WEBAUTHN_RP_ID: "example.org" is not a suffix of the host of the allowed origin https:\/\/example.com/)
  refused({ WEBAUTHN_RP_ID: 'example.org', WEBAUTHN_ORIGINS: 'https://badexample.org' }, /not a suffix/)
  refused({ WEBAUTHN_RP_ID: 'app.example.org', PUBLIC_BASE_URL: 'https://example.org' }, /not a suffix/)
  refused({ WEBAUTHN_RP_ID: 'example.org' }, /WEBAUTHN_ORIGINS: passkeys need at least one allowed origin/)
  refused({ WEBAUTHN_RP_ID: 'example.org', WEBAUTHN_ORIGINS: 'https://app.example.org/login' }, /not an exact origin/)
  refused({ WEBAUTHN_RP_ID: 'https://example.org', WEBAUTHN_ORIGINS: 'https://example.org' }, /WEBAUTHN_RP_ID/)
  t.doesNotThrow(() => loadConfig({ ...base, WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: 'http://localhost:3000' }))
  t.doesNotThrow(() => loadConfig({ ...base, WEBAUTHN_RP_ID: 'example.org', WEBAUTHN_ORIGINS: 'https://example.org,https://a.b.example.org' }))
})
