import {
  browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication, startRegistration, WebAuthnError,
  type AuthenticationResponseJSON, type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON
} from '@simplewebauthn/browser'
import { OtpGateError } from './errors.ts'

/** The browser's refusals that mean the person (or the page, starting another ceremony) called it off. */
const CANCELLED = new Set(['NotAllowedError', 'AbortError'])

/**
 * A ceremony's failure as an OtpGateError: `passkey_cancelled` when the person closed the prompt or it timed out
 * (browsers do not tell these apart, on purpose), else `passkey_failed`.
 */
function ceremonyError (error: unknown): OtpGateError {
  const cause = error instanceof WebAuthnError ? error.cause : error
  const name = (cause as { name?: unknown } | undefined)?.name
  if (error instanceof WebAuthnError && error.code === 'ERROR_CEREMONY_ABORTED') {
    return new OtpGateError('passkey_cancelled', 0, 'The passkey prompt was closed.', { cause: error })
  }
  if (typeof name === 'string' && CANCELLED.has(name)) {
    return new OtpGateError('passkey_cancelled', 0, 'The passkey prompt was closed.', { cause: error })
  }
  const message = error instanceof Error ? error.message : 'The passkey could not be used.'
  return new OtpGateError('passkey_failed', 0, message, { cause: error })
}

type Support = () => Promise<boolean> | boolean

async function ceremony<Result> (run: () => Promise<Result>, supported: Support): Promise<Result> {
  if (!await supported()) {
    throw new OtpGateError('passkey_unsupported', 0, 'This browser does not offer passkeys here.')
  }
  try {
    return await run()
  } catch (error) {
    throw ceremonyError(error)
  }
}

/** Asks the authenticator for a new passkey; the options are the API's answer, passed through unread. */
export const createPasskey = (options: unknown): Promise<RegistrationResponseJSON> =>
  ceremony(
    () => startRegistration({ optionsJSON: options as PublicKeyCredentialCreationOptionsJSON }),
    browserSupportsWebAuthn
  )

/**
 * Asks for an assertion. `conditional`: offered in the autofill of an input with `autocomplete="… webauthn"`,
 * pending until the person picks a passkey there; a later ceremony of this page cancels it.
 */
export const usePasskey = (options: unknown, conditional: boolean): Promise<AuthenticationResponseJSON> =>
  ceremony(() => startAuthentication({
    optionsJSON: options as PublicKeyCredentialRequestOptionsJSON,
    useBrowserAutofill: conditional
  }), conditional ? browserSupportsWebAuthnAutofill : browserSupportsWebAuthn)
