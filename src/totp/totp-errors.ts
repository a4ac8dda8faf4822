import { AppError } from '../errors.ts'

/** The refusals of TotpAuthenticator, worded once. */
export const invalidCode = () => new AppError('invalid_code')

export const suspended = () => new AppError('login_suspended', {
  detail: 'Too many wrong codes: sign-in with authenticator codes is suspended; use a recovery code or contact support.'
})

export const noAuthenticator = () => new AppError('not_found', { detail: 'No authenticator app is active for this account.' })

export const alreadyActive = () =>
  new AppError('conflict', { detail: 'An authenticator app is already active; remove it before enrolling another.' })
