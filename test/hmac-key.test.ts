import t from 'tap'
import { createHmac } from 'node:crypto'
import { hmacKey } from '../src/hmac-key.ts'
import { hmacClientKey } from '../src/delivery/sms-guard.ts'

const SECRETS = ['p'.repeat(32), 'pépper-ünïcode-✓-0123456789abcdef', 'kEy-derived_0123456789abcdefABCDEF']

t.test('a key made once digests as the string did: what was stored or handed out before stays valid', async (t) => {
  for (const secret of SECRETS) {
    const key = hmacKey(secret)
    for (const message of ['', 'user:665f1c2e9b1e8a0012ab34cd', 'ümlaut ✓ message']) {
      t.equal(createHmac('sha256', key).update(message).digest('hex'), createHmac('sha256', secret).update(message).digest('hex'), `${secret.slice(0, 8)}… / ${message || 'empty'}`)
    }
  }
  t.not(createHmac('sha256', hmacKey(SECRETS[0]!)).update('x').digest('hex'), createHmac('sha256', SECRETS[2]!).update('x').digest('hex'), 'another secret, another digest')
})

t.test('the SMS guard names a client IP as before: its budget keys keep counting across a deploy', async (t) => {
  for (const secret of SECRETS) {
    const name = hmacClientKey(secret)
    for (const ip of ['203.0.113.7', '2001:db8::1']) {
      t.equal(name(ip), createHmac('sha256', secret).update(`sms-client:${ip}`).digest('base64url').slice(0, 22), ip)
    }
  }
  t.not(hmacClientKey(SECRETS[0]!)('203.0.113.7'), hmacClientKey(SECRETS[0]!)('203.0.113.8'), 'another IP, another name')
})
