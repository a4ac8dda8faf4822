import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, codeFromOutbox, login, newEmail, startLogin } from './login.ts'

interface Answer { status: number, retryAfter: string | undefined, body: string }

/**
 * Sign-ins started by a few clients in a row while `fault` runs: they go on until `recovered` holds after the
 * fault, and `afterRecovery` more starts were answered 202 (or `maxMs` passed). Returns every answer, and the
 * challenges answered 202 with their email.
 */
export async function startsDuring (app: FastifyInstance, options: {
  fault: () => Promise<void>
  recovered: () => Promise<boolean>
  afterRecovery?: number
  clients?: number
  maxMs?: number
}) {
  const { afterRecovery = 5, clients = 4, maxMs = 30_000 } = options
  const answers: Answer[] = []
  const started: Array<{ email: string, challengeId: string }> = []
  let recoveredAt: number | null = null
  const deadline = Date.now() + maxMs
  const done = () => Date.now() > deadline || (recoveredAt !== null && started.length >= recoveredAt + afterRecovery)
  const client = async () => {
    while (!done()) {
      const email = newEmail('failover')
      const response = await startLogin(app, { email })
      answers.push({ status: response.statusCode, retryAfter: response.headers['retry-after'] as string | undefined, body: response.body })
      if (response.statusCode === 202) started.push({ email, challengeId: response.json().challengeId })
      else await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const load = Promise.all(Array.from({ length: clients }, client))
  // a few answers before the fault, then the fault while the clients go on
  while (answers.length < clients * 2 && !done()) await new Promise((resolve) => setTimeout(resolve, 10))
  await options.fault()
  while (recoveredAt === null && Date.now() < deadline) {
    if (await options.recovered()) recoveredAt = started.length
    else await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await load
  return { answers, started, recovered: recoveredAt !== null }
}

/** No answer but 2xx or 503 with Retry-After: a failover costs retries, never a 500. */
export function assertOnlyRetriableFailures (t: Test, answers: Answer[]): void {
  const retriable = ({ status, retryAfter }: Answer) => status < 300 || (status === 503 && Number(retryAfter) > 0)
  const wrong = answers.filter((answer) => !retriable(answer))
  t.same(wrong, [], `${answers.length} answers, ${answers.filter(({ status }) => status === 503).length} of them 503: nothing else went wrong`)
}

/** Every challenge answered 202 is still there: its code, read from the dev outbox, signs in. */
export async function assertEveryChallengeVerifies (
  t: Test, app: FastifyInstance, started: Array<{ email: string, challengeId: string }>
): Promise<void> {
  const refused: string[] = []
  for (const { email, challengeId } of started) {
    const code = await codeFromOutbox(app, email)
    const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId, code } })
    if (verified.statusCode !== 200) refused.push(`${verified.statusCode} ${verified.body}`)
  }
  t.same(refused, [], `all ${started.length} acknowledged challenges verify with their code`)
}

/** A session signed in and then ended (logout): its access and refresh tokens, which must stay refused. */
export async function revokedSession (t: Test, app: FastifyInstance) {
  const session = await login(app, { email: newEmail('revoked') })
  t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(session.accessToken) })).statusCode, 204, 'signed out')
  return session
}

export async function assertStillRevoked (
  t: Test, app: FastifyInstance, session: { accessToken: string, refreshToken: string }
): Promise<void> {
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })).statusCode, 401, 'the revoked access token is still refused')
  const refreshed = await app.inject({ method: 'POST', url: '/v1/auth/token/refresh', payload: { refreshToken: session.refreshToken } })
  t.equal(refreshed.statusCode, 401, 'the ended session\'s refresh token is still refused')
}
