import t from 'tap'
import { decideRetry, failureReason } from '../../src/delivery/retry-policy.ts'
import { DeliveryError } from '../../src/delivery/senders.ts'

const policy = { baseMs: 1000, maxMs: 8000, maxAttempts: 10 }
const transient = new DeliveryError('transient', 'vonage: HTTP 503')
const far = 1e12

t.test('exponential backoff with equal jitter, capped', async (t) => {
  const at = (attempt: number, random: number) =>
    decideRetry({ ...policy, random: () => random }, { attempt, expiresAt: far }, transient, 0)
  t.same(at(1, 0), { retry: true, delayMs: 500, reason: 'vonage: HTTP 503' })
  t.same(at(1, 0.999), { retry: true, delayMs: 1000, reason: 'vonage: HTTP 503' })
  t.match(at(3, 0), { delayMs: 2000 })
  t.match(at(9, 1), { delayMs: 8000 }, 'never above maxMs')
})

t.test('Retry-After is a floor, and no retry goes past the expiry', async (t) => {
  const limited = new DeliveryError('transient', 'sendgrid: HTTP 429', { retryAfterMs: 5000 })
  t.match(
    decideRetry({ ...policy, random: () => 0 }, { attempt: 1, expiresAt: far }, limited, 0),
    { retry: true, delayMs: 5000 }
  )
  t.same(decideRetry(policy, { attempt: 1, expiresAt: 4000 }, limited, 0), { retry: false, reason: 'sendgrid: HTTP 429; the code expires before the next try' })
})

t.test('permanent failures and spent attempts are not retried; unexpected errors keep only their name', async (t) => {
  t.same(decideRetry(policy, { attempt: 1, expiresAt: far }, new DeliveryError('invalid_recipient', 'vonage: status 7'), 0), { retry: false, reason: 'vonage: status 7' })
  t.same(decideRetry(policy, { attempt: 10, expiresAt: far }, transient, 0), { retry: false, reason: 'vonage: HTTP 503; gave up after 10 attempts' })
  t.equal(failureReason(new Error('code 123456 for jane@example.org')), 'unexpected Error')
})
