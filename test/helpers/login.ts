import type { FastifyInstance } from 'fastify'
import { randomBytes } from 'node:crypto'
import { setTimeout } from 'node:timers/promises'

/** A fresh email per call: cooldowns and quotas are per destination, so tests never share one. */
export const newEmail = (label = 'user') => `${label}-${randomBytes(5).toString('hex')}@example.org`

/** A fresh valid US number (NANP 201-555-01xx range is fictional but parses as valid in libphonenumber). */
export const newPhone = () => `+1201555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`

/**
 * Codes are queued and sent after the answer: resolves once the app's delivery queue has nothing waiting or in
 * flight, so what was asked for is in the outbox (or was dropped). Throws after `withinMs`.
 */
export async function deliveriesSettled (app: FastifyInstance, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs
  while (await app.deliveryQueue.pending() > 0) {
    if (Date.now() > deadline) throw new Error(`the delivery queue still holds ${await app.deliveryQueue.pending()} jobs after ${withinMs} ms`)
    await setTimeout(5)
  }
}

/** The dev outbox's messages for a destination, once the queued deliveries are done. */
export async function outboxOf (app: FastifyInstance, to: string) {
  await deliveriesSettled(app)
  return app.inject({ method: 'GET', url: '/v1/dev/outbox', query: { to } })
}

/** The newest code the dev outbox holds for a destination (notices, which carry none, are passed over). */
export async function codeFromOutbox (app: FastifyInstance, to: string): Promise<string> {
  await deliveriesSettled(app)
  const response = await app.inject({ method: 'GET', url: '/v1/dev/outbox', query: { to } })
  if (response.statusCode !== 200) throw new Error(`outbox answered ${response.statusCode}: ${response.body}`)
  const newest = (response.json().messages as Array<{ code: string }>).find((message) => message.code !== '')
  if (!newest) throw new Error(`no message with a code in the outbox for ${to}`)
  return newest.code
}

export async function startLogin (app: FastifyInstance, body: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/v1/auth/otp', payload: body })
}

/** The whole flow over HTTP: ask for a code, read it from the outbox, verify it. Returns the verify body. */
export async function login (app: FastifyInstance, identifier: { email: string } | { phone: string }) {
  const started = await startLogin(app, identifier)
  if (started.statusCode !== 202) throw new Error(`start answered ${started.statusCode}: ${started.body}`)
  const code = await codeFromOutbox(app, 'email' in identifier ? identifier.email : identifier.phone)
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
  if (verified.statusCode !== 200) throw new Error(`verify answered ${verified.statusCode}: ${verified.body}`)
  return verified.json() as {
    accessToken: string
    refreshToken: string
    tokenType: string
    expiresIn: number
    user: Record<string, unknown> & { id: string }
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
