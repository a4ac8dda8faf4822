/**
 * `MAGIC_LINK_URL#challengeId=…&code=…`. The values ride in the fragment, which browsers never send: no server
 * log, proxy or Referer sees the code. The page reads them and calls POST /v1/auth/otp/verify.
 */
export function magicLink (base: string, challengeId: string, code: string): string {
  const url = new URL(base)
  url.hash = new URLSearchParams({ challengeId, code }).toString()
  return url.href
}
