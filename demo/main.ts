// The /demo page: sign in with a one-time code through @otp-gate/client, then see the user and their sessions.
import { createClient, OtpGateError, type Challenge, type SessionInfo, type User } from '../client/src/index.ts'
import { passkeyPage } from './passkeys.ts'

const client = createClient({ baseUrl: location.origin, storage: 'local' })

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const startForm = element<HTMLFormElement>('start-form')
const verifyForm = element<HTMLFormElement>('verify-form')
const mfaForm = element<HTMLFormElement>('mfa-form')
const signedIn = element<HTMLElement>('signed-in')
const status = element<HTMLParagraphElement>('status')
const errorLine = element<HTMLParagraphElement>('error')
const resendButton = element<HTMLButtonElement>('resend')

let challenge: Challenge | null = null
let mfaToken: string | null = null
let resendTimer: ReturnType<typeof setInterval> | undefined
let webOtp: AbortController | undefined

/** Shows one step, and moves the focus to where the person continues. */
function show (step: HTMLElement, focus: HTMLElement): void {
  for (const each of [startForm, verifyForm, mfaForm, signedIn]) each.hidden = each !== step
  focus.focus()
}

function say (message: string): void {
  status.textContent = message
  errorLine.textContent = ''
}

/** What went wrong, in words, with what the API says about waiting or attempts left. */
function explain (error: unknown): void {
  status.textContent = ''
  if (!(error instanceof OtpGateError)) {
    errorLine.textContent = 'Something went wrong. Try again.'
    return
  }
  const waits = error.retryAfter === undefined ? '' : ` Try again in ${error.retryAfter} s.`
  const attempts = error.remainingAttempts === undefined ? '' : ` ${error.remainingAttempts} attempts left.`
  const messages: Partial<Record<OtpGateError['code'], string>> = {
    invalid_code: 'That code is not right.',
    challenge_expired: 'That code has expired: ask for a new one.',
    too_many_attempts: 'Too many wrong codes: ask for a new one.',
    cooldown: 'A code was sent a moment ago.',
    rate_limited: 'Too many requests.',
    network_error: 'The server cannot be reached.',
    unauthorized: 'Your session has ended: sign in again.',
    token_reused: 'Your session has ended: sign in again.',
    not_signed_in: 'Your session has ended: sign in again.',
    invalid_passkey: 'That passkey is not recognised here (was it removed?): sign in with a code.',
    passkey_cancelled: 'The passkey prompt was closed.',
    passkey_unsupported: 'This browser does not offer passkeys here.',
    reauthentication_required: 'For this, sign in again first (a sign-in under 5 minutes old).'
  }
  errorLine.textContent = `${messages[error.code] ?? error.detail}${attempts}${waits}`
}

/** Runs a step's action with its buttons disabled, and says what failed. */
async function busy (form: HTMLElement, action: () => Promise<void>): Promise<void> {
  const buttons = [...form.querySelectorAll('button')]
  for (const button of buttons) button.disabled = true
  try {
    await action()
  } catch (error) {
    explain(error)
  } finally {
    for (const button of buttons) button.disabled = false
    if (form === verifyForm) updateResend()
  }
}

function channel (): 'email' | 'phone' {
  return (startForm.elements.namedItem('channel') as RadioNodeList).value === 'phone' ? 'phone' : 'email'
}

function showStart (): void {
  challenge = null
  mfaToken = null
  webOtp?.abort()
  show(startForm, element('start-heading'))
  passkeys.offerInAutofill()
}

/** The resend button waits for the challenge's `resendAfter`, counting down. */
function updateResend (): void {
  const seconds = challenge === null ? 0 : Math.ceil((Date.parse(challenge.resendAfter) - Date.now()) / 1000)
  resendButton.disabled = seconds > 0
  resendButton.textContent = seconds > 0 ? `Send a new code (in ${seconds} s)` : 'Send a new code'
}

function showVerify (next: Challenge): void {
  challenge = next
  const until = new Date(next.expiresAt).toLocaleTimeString()
  element('sent-to').textContent = `We sent a code to ${next.destination}. It works until ${until}.`
  const code = element<HTMLInputElement>('code')
  code.value = ''
  clearInterval(resendTimer)
  resendTimer = setInterval(updateResend, 1000)
  updateResend()
  show(verifyForm, code)
  if (next.channel === 'sms') listenForSmsCode(code)
}

/** Web OTP API: on a phone, the code of an SMS ending in `@<host> #<code>` fills itself in. */
function listenForSmsCode (input: HTMLInputElement): void {
  if (!('OTPCredential' in window)) return
  webOtp?.abort()
  webOtp = new AbortController()
  const request = { otp: { transport: ['sms'] }, signal: webOtp.signal } as CredentialRequestOptions
  navigator.credentials.get(request).then((credential) => {
    const code = (credential as { code?: string } | null)?.code
    if (code === undefined || challenge === null) return
    input.value = code
    verifyForm.requestSubmit()
  }).catch(() => { /* aborted, or typed by hand */ })
}

function row (list: HTMLElement, term: string, value: string | null): void {
  const dt = document.createElement('dt')
  const dd = document.createElement('dd')
  dt.textContent = term
  dd.textContent = value ?? '—'
  list.append(dt, dd)
}

function renderUser (user: User): void {
  const list = element('user')
  list.replaceChildren()
  row(list, 'Email', user.email)
  row(list, 'Phone', user.phone)
  row(list, 'Name', user.name)
  row(list, 'User id', user.id)
  row(list, 'Last sign-in', user.lastLoginAt && new Date(user.lastLoginAt).toLocaleString())
}

function renderSessions (sessions: SessionInfo[]): void {
  const list = element('sessions')
  list.replaceChildren(...sessions.map((session) => {
    const item = document.createElement('li')
    const started = new Date(session.createdAt).toLocaleString()
    const where = session.current ? 'This browser' : session.userAgent ?? 'Another device'
    item.textContent = `${where}, since ${started} (${session.amr.join(', ')}) `
    if (!session.current) {
      const end = document.createElement('button')
      end.type = 'button'
      end.textContent = 'End'
      end.setAttribute('aria-label', `End the session started ${started}`)
      end.addEventListener('click', () => busy(signedIn, async () => {
        await client.me.endSession(session.id)
        await loadSignedIn()
      }))
      item.append(end)
    }
    return item
  }))
}

async function loadSignedIn (): Promise<void> {
  const [user, sessions] = await Promise.all([client.me.get(), client.me.sessions(), passkeys.load()])
  renderUser(user)
  renderSessions(sessions)
}

async function showSignedIn (): Promise<void> {
  await loadSignedIn()
  clearInterval(resendTimer)
  show(signedIn, element('signed-in-heading'))
}

const passkeys = passkeyPage({ client, busy, say })

startForm.addEventListener('change', () => {
  const byPhone = channel() === 'phone'
  element('email-field').hidden = byPhone
  element('phone-field').hidden = !byPhone
  element<HTMLInputElement>('email').disabled = byPhone
  element<HTMLInputElement>('phone').disabled = !byPhone
})

startForm.addEventListener('submit', (event) => {
  event.preventDefault()
  busy(startForm, async () => {
    const to = element<HTMLInputElement>(channel()).value.trim()
    const identifier = channel() === 'phone' ? { phone: to } : { email: to }
    const next = await client.auth.startOtp(identifier, { locale: navigator.language })
    element<HTMLAnchorElement>('outbox-link').href = `/v1/dev/outbox?to=${encodeURIComponent(to)}`
    say('A code is on its way.')
    showVerify(next)
  })
})

verifyForm.addEventListener('submit', (event) => {
  event.preventDefault()
  busy(verifyForm, async () => {
    if (challenge === null) return
    webOtp?.abort()
    const result = await client.auth.verifyOtp(challenge.challengeId, element<HTMLInputElement>('code').value.trim())
    if (result.mfaRequired) {
      mfaToken = result.mfaToken
      say('One more step: your account has an authenticator app.')
      show(mfaForm, element('mfa-code'))
      return
    }
    say('You are signed in.')
    await showSignedIn()
  })
})

resendButton.addEventListener('click', () => busy(verifyForm, async () => {
  if (challenge === null) return
  showVerify(await client.auth.resend(challenge.challengeId))
  say('A new code is on its way; the previous one no longer works.')
}))

element('restart').addEventListener('click', () => { say(''); showStart() })

mfaForm.addEventListener('submit', (event) => {
  event.preventDefault()
  busy(mfaForm, async () => {
    if (mfaToken === null) return
    await client.auth.verifyMfa(mfaToken, element<HTMLInputElement>('mfa-code').value.trim())
    say('You are signed in.')
    await showSignedIn()
  })
})

element('reload-sessions').addEventListener('click', () => busy(signedIn, loadSignedIn))
element('sign-out').addEventListener('click', () => busy(signedIn, () => client.auth.logout()))
element('sign-out-all').addEventListener('click', () => busy(signedIn, () => client.auth.logoutAll()))

// this tab's sign-out, another tab's, or the API ending the session: back to the start
client.onAuthChange((change) => {
  if (change.type === 'signed_out') {
    say(change.reason === 'logout' ? 'You are signed out.' : 'Your session has ended: sign in again.')
    showStart()
  } else if (change.type === 'signed_in' && signedIn.hidden && challenge === null) {
    busy(signedIn, showSignedIn)
  }
})

if (await client.auth.isSignedIn()) {
  await busy(signedIn, showSignedIn)
} else {
  showStart()
}
