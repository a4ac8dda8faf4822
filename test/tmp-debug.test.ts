import t from 'tap'
import { buildTestApp } from './helpers/build-app.ts'
t.test('x', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', env: { RATE_LIMIT_ALLOWLIST: '', RATE_LIMIT_START_PER_MINUTE: '3' } })
  for (let i = 0; i < 4; i++) {
    const r = await app.inject({ method: 'POST', url: '/v1/auth/otp', remoteAddress: '203.0.113.9', payload: { email: `a${i}@example.org` } })
    console.log(r.statusCode, r.body, r.headers)
  }
})
