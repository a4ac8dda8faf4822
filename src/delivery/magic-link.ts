/**
 * `MAGIC_LINK_URL#challengeId=…&code=…`. The values ride in the fragment, which browsers never send: no server
 * log, proxy or Referer sees the code. The page reads them and calls POST /v1/auth/otp/verify.
 */
export function magicLink (base: string, challengeId: string, code: string): string {
  const url = new URL(base)
  url.hash = new URLSearchParams({ challengeId, code }).toString()
  return url.href
}

/** A sample sign-in link token, as long as a real one, for template checks and previews. */
export const SAMPLE_LINK_TOKEN = '3f2a.Xk3v9Qm1aZ0b7Yc2Ld5eFw.' + 'q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA'

/**
 * `MAGIC_LINK_URL#token=…`: the sign-in link sent instead of a code while the destination's codes are suspended.
 * The page reads the token from the fragment (never sent to a server) and calls POST /v1/auth/link/verify.
 */
export function signInLink (base: string, token: string): string {
  const url = new URL(base)
  url.hash = new URLSearchParams({ token }).toString()
  return url.href
}
