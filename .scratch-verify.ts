// one app, then sequential timings of start and verify
import { spawn } from 'node:child_process'
import { generateSigningKey } from './src/sessions/tokens.ts'
import { randomBytes } from 'node:crypto'
const port = 39555
const env = { PATH: process.env.PATH!, NODE_ENV: 'production', PORT: String(port), LOG_LEVEL: 'warn', REDIS_URL: process.env.REDIS_URL!, MONGODB_URL: process.env.MONGODB_URL!.replace(/\/[^/]*$/, '/otp-gate-probe'), JWT_KEYS: JSON.stringify([generateSigningKey('b')]), OTP_PEPPER: 'x'.repeat(40), TOTP_ENCRYPTION_KEYS: 'k:' + randomBytes(32).toString('base64'), SENDGRID_API_KEY: 'SG.x', EMAIL_FROM: 'a@loadtest.example', VONAGE_API_KEY: 'x', VONAGE_API_SECRET: 'x', SMS_FROM: 'x', SMS_ALLOWED_COUNTRIES: 'US', TEST_IDENTIFIERS: '*@loadtest.example=000000', ALLOW_TEST_IDENTIFIERS: 'true', TEST_IDENTIFIERS_SKIP_QUOTA: 'true', RATE_LIMIT_ALLOWLIST: '127.0.0.1' }
const child = spawn(process.execPath, ['src/server.ts'], { env, stdio: 'inherit' })
await new Promise((r) => setTimeout(r, 4000))
const post = async (path: string, body: unknown) => { const t = performance.now(); const r = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }); const j = await r.json(); return { ms: performance.now() - t, status: r.status, j } }
for (let i = 0; i < 8; i++) {
  const s = await post('/v1/auth/otp', { email: `p${randomBytes(4).toString('hex')}@loadtest.example` })
  const v = await post('/v1/auth/otp/verify', { challengeId: s.j.challengeId, code: '000000' })
  console.log('start', s.status, s.ms.toFixed(1), 'verify', v.status, v.ms.toFixed(1), v.status !== 200 ? JSON.stringify(v.j) : '')
}
child.kill('SIGTERM')
