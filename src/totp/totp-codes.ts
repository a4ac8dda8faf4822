import { randomBytes } from '../random-bytes.ts'
import { Secret, TOTP } from 'otpauth'

/** RFC 6238 as authenticator apps expect it: HMAC-SHA-1, 6 digits, 30 s steps, one step of drift either way. */
const PERIOD = 30
const DIGITS = 6
const WINDOW = 1
const TOTP_CODE = /^\d{6}$/
/** a step stays claimed while a code of it can still validate: up to WINDOW steps ahead, and a margin */
export const STEP_TTL_MS = (2 * WINDOW + 2) * PERIOD * 1000

export const totpOf = (secret: Uint8Array, issuer = '', label = 'OTPAuth') =>
  new TOTP({ issuer, label, secret: new Secret({ buffer: new Uint8Array(secret).buffer }), algorithm: 'SHA1', digits: DIGITS, period: PERIOD })

// checked against when there is no credential, so unknown users cost about the same
const DECOY = totpOf(randomBytes(20))

/** The time step `code` is valid for with this secret, within ±WINDOW steps of `timestamp` (epoch ms); else null. */
export function validStep (secret: Uint8Array, code: string, timestamp: number): number | null {
  if (!TOTP_CODE.test(code)) return null
  const totp = totpOf(secret)
  const delta = totp.validate({ token: code, timestamp, window: WINDOW })
  return delta === null ? null : totp.counter({ timestamp }) + delta
}

/** The work of validStep against a secret nobody has, for a subject without an authenticator. */
export function checkDecoy (code: string, timestamp: number): void {
  DECOY.validate({ token: code, timestamp, window: WINDOW })
}
