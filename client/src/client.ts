import createFetchClient from 'openapi-fetch'
import type { paths } from './openapi.ts'
import { answerOf, type Answer, type Bearer } from './answer.ts'
import { OtpGateError } from './errors.ts'
import { passkeyMethods } from './passkeys.ts'
import { AuthSession } from './session.ts'
import { localTokenStorage, memoryStorage, type TokenStorage } from './storage.ts'
import type {
  AccountExport, AccountProof, AuthChangeListener, Challenge, Identifier, ProfileChanges, SessionInfo, SignInResult,
  TotpEnrolment, TotpStatus, User
} from './types.ts'

export interface ClientOptions {
  /** where the API is, e.g. `https://auth.example.com` (`location.origin` when the page is served with it) */
  baseUrl: string
  /**
   * where tokens are kept: `'memory'` (default: gone on reload, out of reach of other tabs and of storage-reading
   * scripts), `'local'` (localStorage: survives reloads and is shared by the origin's tabs, but any script running on
   * the page, an XSS included, can read it), or your own (a native app's secure store)
   */
  storage?: 'memory' | 'local' | TokenStorage
  /**
   * `'cookie'`: for an API with SESSION_COOKIE=on, the refresh token lives in an httpOnly cookie the page's scripts
   * cannot read; requests go with `credentials: 'include'`, the access token stays in memory (`storage` is not
   * used), and a reloaded page finds its session with one refresh. Default `'tokens'`: the client keeps the pair.
   */
  session?: 'tokens' | 'cookie'
  /** names the localStorage entry and the cross-tab lock; default `otp-gate:<baseUrl>` */
  storageKey?: string
  /** refresh an access token this many seconds before it expires (default 30) */
  refreshMarginSeconds?: number
  /** a fetch of your own (tests, server-side rendering) */
  fetch?: (request: Request) => Promise<Response>
  /** the clock, in epoch ms (tests) */
  now?: () => number
}

/** The body of a code request: exactly one of email or phone, and the locale. */
const contactBody = (identifier: Identifier, locale: string | undefined) =>
  identifier.email !== undefined ? { email: identifier.email, locale } : { phone: identifier.phone, locale }

function chosenStorage (storage: ClientOptions['storage'], key: string): TokenStorage {
  if (storage === 'local') return localTokenStorage(key)
  return storage === undefined || storage === 'memory' ? memoryStorage() : storage
}

/** A client of one otp-gate API: sign-in with one-time codes, the signed-in user, and refresh done once. */
/**
 * The named values of a link's fragment (`url`, else the page's own URL, which then leaves the address bar and
 * history); null unless every one is there.
 */
function takeFragment (url: string | undefined, names: string[]): Record<string, string> | null {
  const page = globalThis as {
    location?: { href: string }, history?: { replaceState: (data: null, unused: string, url: string) => void }
  }
  const href = url ?? page.location?.href
  if (href === undefined) return null
  const fragment = new URLSearchParams(new URL(href).hash.slice(1))
  const values = Object.fromEntries(names.map((name) => [name, fragment.get(name) ?? '']))
  if (names.some((name) => values[name] === '')) return null
  if (url === undefined) page.history?.replaceState(null, '', href.split('#')[0]!)
  return values
}

export function createClient (options: ClientOptions) {
  const key = options.storageKey ?? `otp-gate:${options.baseUrl}`
  const cookie = options.session === 'cookie'
  // with the cookie, tabs share a session without sharing storage: the access token is handed over, never stored
  const storage = cookie ? { ...memoryStorage(), shared: true } : chosenStorage(options.storage, key)
  const api = createFetchClient<paths>({
    baseUrl: options.baseUrl,
    ...(cookie ? { credentials: 'include' as const } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {})
  })
  const session = new AuthSession({
    storage,
    key,
    refreshMarginMs: (options.refreshMarginSeconds ?? 30) * 1000,
    now: options.now ?? Date.now,
    cookie,
    rotate: async (refreshToken) =>
      (await answerOf(() => api.POST('/v1/auth/token/refresh', { body: refreshToken === undefined ? {} : { refreshToken } }))).data
  })

  /** A call with the access token; refused with 401, it is made once more after one (shared) refresh. */
  async function authorized<Data> (call: (headers: Bearer) => Promise<Answer<Data>>): Promise<Data> {
    const token = await session.accessToken()
    try {
      return (await answerOf(() => call({ authorization: `Bearer ${token}` }))).data
    } catch (error) {
      if (!(error instanceof OtpGateError) || error.status !== 401) throw error
    }
    const fresh = await session.accessTokenAfter(token)
    return (await answerOf(() => call({ authorization: `Bearer ${fresh}` }))).data
  }

  const signedIn = async (login: { accessToken: string, refreshToken?: string, expiresIn: number, user: User }) => {
    await session.signIn(login, login.user)
    return login.user
  }

  const auth = {
    /** Sends a code to the email or phone; answers the challenge to verify (never the code). */
    startOtp: async (identifier: Identifier, { locale }: { locale?: string } = {}): Promise<Challenge> =>
      (await answerOf(() => api.POST('/v1/auth/otp', { body: contactBody(identifier, locale) }))).data,
    /** A new code for the challenge; the previous one stops working. */
    resend: async (challengeId: string): Promise<Challenge> =>
      (await answerOf(() => api.POST('/v1/auth/otp/resend', { body: { challengeId } }))).data,
    /** Signs in with the code, or answers the second-factor step for a user with an authenticator app. */
    verifyOtp: async (challengeId: string, code: string): Promise<SignInResult> => {
      const { data } = await answerOf(() => api.POST('/v1/auth/otp/verify', { body: { challengeId, code } }))
      if ('mfaRequired' in data) {
        return { mfaRequired: true, mfaToken: data.mfaToken, expiresIn: data.expiresIn, methods: data.methods }
      }
      return { mfaRequired: false, user: await signedIn(data) }
    },
    /**
     * Signs in from a magic link, `MAGIC_LINK_URL#challengeId=…&code=…`: reads the fragment of `url` (by default
     * the page's own, which it then takes out of the address bar and history) and verifies it like verifyOtp.
     * Null when the URL carries no link. The link works once, like the code.
     */
    verifyFromUrl: async (url?: string): Promise<SignInResult | null> => {
      const fragment = takeFragment(url, ['challengeId', 'code'])
      return fragment === null ? null : auth.verifyOtp(fragment.challengeId!, fragment.code!)
    },
    /**
     * Takes back an email or phone change from the link its notice carried, `IDENTIFIER_UNDO_URL#token=…` (the
     * page's own URL by default, then taken out of the address bar): the old identifier is back and every session
     * of the account ended, this one's too. True when done; null when the URL carries no token. Throws
     * OtpGateError `undo_link_invalid` (unknown, expired or used) or `conflict` (another account holds it now).
     */
    undoIdentifierChangeFromUrl: async (url?: string): Promise<true | null> => {
      const fragment = takeFragment(url, ['token'])
      if (fragment === null) return null
      await answerOf(() => api.POST('/v1/auth/identifier/undo', { body: { token: fragment.token! } }))
      if (await session.tokens() !== null) await session.signOut('session_ended')
      return true
    },
    /** Completes a sign-in with a code of the authenticator app or a recovery code. */
    verifyMfa: async (mfaToken: string, code: string): Promise<User> =>
      signedIn((await answerOf(() => api.POST('/v1/auth/mfa/verify', { body: { mfaToken, code } }))).data),
    /** Rotates the tokens now; concurrent calls, and tabs sharing the storage, make one request. */
    refresh: async (): Promise<void> => { await session.refresh() },
    /** An access token for your own API calls, refreshed when about to expire; null when signed out. */
    getAccessToken: async (): Promise<string | null> => await session.tokens() === null ? null : session.accessToken(),
    isSignedIn: async (): Promise<boolean> => await session.tokens() !== null,
    /** Ends this session on the API and here; signed out here even when the API cannot be told. */
    logout: () => endSessions((headers) => api.POST('/v1/auth/logout', { headers, body: {} })),
    /** Ends every session of the user, on every device. */
    logoutAll: () => endSessions((headers) => api.POST('/v1/auth/logout/all', { headers }))
  }

  async function endSessions (call: (headers: Bearer) => Promise<Answer<unknown>>): Promise<void> {
    if (await session.tokens() === null) return
    try {
      await authorized(call)
    } catch (error) {
      // a session the API already ended is the outcome asked for
      if (!(error instanceof OtpGateError) || error.status !== 401) throw error
    } finally {
      if (await session.tokens() !== null) await session.signOut('logout')
    }
  }

  const me = {
    get: (): Promise<User> => authorized((headers) => api.GET('/v1/me', { headers })),
    update: (changes: ProfileChanges): Promise<User> =>
      authorized((headers) => api.PATCH('/v1/me', { headers, body: changes })),
    sessions: async (): Promise<SessionInfo[]> =>
      (await authorized((headers) => api.GET('/v1/me/sessions', { headers }))).sessions,
    endSession: async (id: string): Promise<void> => {
      await authorized((headers) => api.DELETE('/v1/me/sessions/{id}', { headers, params: { path: { id } } }))
    },
    /** Sends a code to an email or phone to add to the account; verify it with `verifyContact`. */
    addContact: (identifier: Identifier, { locale }: { locale?: string } = {}): Promise<Challenge> =>
      authorized((headers) => api.POST('/v1/me/contacts', { headers, body: contactBody(identifier, locale) })),
    verifyContact: (challengeId: string, code: string): Promise<User> =>
      authorized((headers) => api.POST('/v1/me/contacts/verify', { headers, body: { challengeId, code } })),
    /** The user's data (profile, identifiers, metadata, sessions, authenticator, activity), to save as a file. */
    export: (): Promise<AccountExport> => authorized((headers) => api.GET('/v1/me/export', { headers })),
    /**
     * Deletes the account and its data, then signs out here. Needs a sign-in under 5 minutes old, or `proof`: a
     * `reauthToken` or a `totpCode` (OtpGateError 403 `reauthentication_required` otherwise).
     */
    delete: async (proof: AccountProof = {}): Promise<void> => {
      await authorized((headers) => api.DELETE('/v1/me', { headers, body: proof }))
      await session.signOut('logout')
    },
    /** The authenticator app (TOTP) and recovery codes. */
    totp: {
      status: (): Promise<TotpStatus> => authorized((headers) => api.GET('/v1/me/totp', { headers })),
      /** A new secret as an otpauth:// URI and a QR code; confirm it with a first code. */
      start: (): Promise<TotpEnrolment> => authorized((headers) => api.POST('/v1/me/totp', { headers })),
      /** Activates the app; answers the recovery codes, shown only now. */
      confirm: async (code: string): Promise<string[]> =>
        (await authorized((headers) => api.POST('/v1/me/totp/confirm', { headers, body: { code } }))).recoveryCodes,
      remove: async (code: string): Promise<void> => {
        await authorized((headers) => api.DELETE('/v1/me/totp', { headers, body: { code } }))
      },
      regenerateRecoveryCodes: async (code: string): Promise<string[]> => {
        const { recoveryCodes } = await authorized((headers) => api.POST('/v1/me/totp/recovery-codes', { headers, body: { code } }))
        return recoveryCodes
      }
    }
  }

  const { passkeys, signInWithPasskey } = passkeyMethods({ api, authorized, signedIn })

  return {
    auth: { ...auth, signInWithPasskey },
    me,
    passkeys,
    /** Called on signed_in, refreshed and signed_out, in this tab or another sharing the storage. */
    onAuthChange: (listener: AuthChangeListener): (() => void) => session.onChange(listener),
    /** Stops listening to other tabs. */
    close: () => session.close()
  }
}

export type OtpGateClient = ReturnType<typeof createClient>
