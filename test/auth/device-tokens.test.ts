import t from 'tap'
import { createHmac } from 'node:crypto'
import { DEVICE_TOKEN_PATTERN, DeviceTokens } from '../../src/auth/device-tokens.ts'

const KEY = 'kEy-derived-from-the-pepper_0123456789abcdefABCDEF'
const NOW = new Date('2026-12-06T06:00:00Z')

t.test('a device token is its expiry and an HMAC under the key\'s UTF-8 bytes: tokens issued before a deploy still pass', async (t) => {
  const devices = new DeviceTokens({ key: KEY, ttlSeconds: 3600, now: () => NOW })
  const token = devices.issue('665f1c2e9b1e8a0012ab34cd', 'email', 'jane@example.org')
  t.match(token, new RegExp(DEVICE_TOKEN_PATTERN))
  const expiry = String(NOW.getTime() / 1000 + 3600)
  const mac = createHmac('sha256', KEY).update(`device:665f1c2e9b1e8a0012ab34cd:email:jane@example.org:${expiry}`).digest('base64url')
  t.equal(token, `d1.${expiry}.${mac}`)
  t.ok(devices.recognises(token, '665f1c2e9b1e8a0012ab34cd', 'email', 'jane@example.org'), 'recognised')
})

t.test('a token is worth nothing for another user, destination, key or after its expiry', async (t) => {
  let now = NOW
  const devices = new DeviceTokens({ key: KEY, ttlSeconds: 60, now: () => now })
  const token = devices.issue('665f1c2e9b1e8a0012ab34cd', 'sms', '+12015550123')
  t.notOk(devices.recognises(token, '665f1c2e9b1e8a0012ab34ce', 'sms', '+12015550123'), 'another user')
  t.notOk(devices.recognises(token, '665f1c2e9b1e8a0012ab34cd', 'sms', '+12015550124'), 'another phone')
  t.notOk(devices.recognises(token, '665f1c2e9b1e8a0012ab34cd', 'email', '+12015550123'), 'another channel')
  t.notOk(devices.recognises(token, null, 'sms', '+12015550123'), 'no user')
  t.notOk(new DeviceTokens({ key: `${KEY}x`, ttlSeconds: 60, now: () => now }).recognises(token, '665f1c2e9b1e8a0012ab34cd', 'sms', '+12015550123'), 'another key')
  t.notOk(devices.recognises('d1.0000000000.short', '665f1c2e9b1e8a0012ab34cd', 'sms', '+12015550123'), 'malformed')
  now = new Date(NOW.getTime() + 61_000)
  t.notOk(devices.recognises(token, '665f1c2e9b1e8a0012ab34cd', 'sms', '+12015550123'), 'expired')
})
