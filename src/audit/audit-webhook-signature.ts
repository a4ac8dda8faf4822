import { createHmac, timingSafeEqual } from 'node:crypto'

/** The header a webhook POST is signed in, Stripe's way: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export const SIGNATURE_HEADER = 'X-OtpGate-Signature'

/** How far from its own clock a receiver accepts `t` (docs/operations.md): a captured POST replays no longer. */
export const SIGNATURE_TOLERANCE_SECONDS = 300

const hmac = (secret: string, timestamp: number, body: string): Buffer =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest()

/**
 * The X-OtpGate-Signature value of a body sent at `unixSeconds`. The time is signed with the body, so a receiver
 * that checks it refuses a POST replayed later; each try of a batch is signed anew, at the time it is sent.
 */
export const webhookSignature = (secret: string, body: string, unixSeconds: number): string =>
  `t=${unixSeconds},v1=${hmac(secret, unixSeconds, body).toString('hex')}`

/**
 * What a receiver does, as a reference (docs/operations.md shows it): the raw body, before any parsing; `t` at most
 * `toleranceSeconds` from the receiver's clock; any `v1` equal, in constant time, to the HMAC of "t.body".
 */
export function verifyWebhookSignature (
  secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS
): boolean {
  const fields = header.split(',').map((part) => part.trim().split('='))
  const timestamp = fields.find(([key]) => key === 't')?.[1]
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return false
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false
  const expected = hmac(secret, Number(timestamp), body)
  return fields.some(([key, value]) => key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value) &&
    timingSafeEqual(Buffer.from(value, 'hex'), expected))
}
