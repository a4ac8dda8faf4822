import { AppError } from '../errors.ts'

/** The refusals of TotpAuthenticator, worded once. */
export const invalidCode = () => new AppError('invalid_code')

export const suspended = (retryAfterMs: number) => new AppError('login_suspended', {
  retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  detail: 'Too many wrong codes today: authenticator codes are not checked for now; use a recovery code, or sign in with a code sent to your email or phone.'
})

export const noAuthenticator = () => new AppError('not_found', { detail: 'No authenticator app is active for this account.' })

export const alreadyActive = () =>
  new AppError('conflict', { detail: 'An authenticator app is already active; remove it before enrolling another.' })
