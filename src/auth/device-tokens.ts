import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'
import { hmacKey } from '../hmac-key.ts'

/** `d1.<expiry, epoch seconds>.<HMAC>`: route schemas validate device tokens with it. */
export const DEVICE_TOKEN_PATTERN = '^d1\\.[0-9]{10}\\.[A-Za-z0-9_-]{43}$'
const deviceTokenRegExp = new RegExp(DEVICE_TOKEN_PATTERN)

export interface DeviceTokensOptions {
  /** HMAC key; derived from OTP_PEPPER, so every API host recognises every host's tokens */
  key: string
  ttlSeconds: number
  now: () => Date
}

/**
 * Device tokens: what a device that signed in with an email or phone carries, so that its later code requests for
 * that destination spend the owner's budget lane (src/otp/challenges.ts BudgetLane), never the anonymous one an
 * attacker can spend. A token is its expiry and an HMAC of the user, the destination and that expiry: nothing is
 * stored, so there is no table of tokens to leak or grow, and a token is worth nothing for another user or address
 * (a user re-created under the same address has a new id). It signs nobody in: at worst a stolen one lets its holder
 * ask for codes that go to the owner, from the owner's own bounded budget, until it expires.
 */
export class DeviceTokens {
  readonly #options: DeviceTokensOptions
  /** made once: see hmac-key.ts */
  readonly #key: KeyObject

  constructor (options: DeviceTokensOptions) {
    this.#options = options
    this.#key = hmacKey(options.key)
  }

  #mac (userId: string, channel: 'email' | 'sms', destination: string, expiry: string): string {
    return createHmac('sha256', this.#key).update(`device:${userId}:${channel}:${destination}:${expiry}`).digest('base64url')
  }

  /** A token for this user's device, bound to the destination it signed in with; never to log. */
  issue (userId: string, channel: 'email' | 'sms', destination: string): string {
    const expiry = String(Math.floor(this.#options.now().getTime() / 1000) + this.#options.ttlSeconds).padStart(10, '0')
    return `d1.${expiry}.${this.#mac(userId, channel, destination, expiry)}`
  }

  /**
   * Whether `token` is a live token of this user for this destination. The HMAC is computed whether or not there is
   * a user (userId null), so the answer takes as long for an address without an account.
   */
  recognises (token: string | undefined, userId: string | null, channel: 'email' | 'sms', destination: string): boolean {
    if (token === undefined || !deviceTokenRegExp.test(token)) return false
    const [, expiry = '', mac = ''] = token.split('.')
    const expected = Buffer.from(this.#mac(userId ?? '', channel, destination, expiry))
    const same = timingSafeEqual(expected, Buffer.from(mac.padEnd(expected.length).slice(0, expected.length)))
    return same && userId !== null && Number(expiry) * 1000 > this.#options.now().getTime()
  }
}
