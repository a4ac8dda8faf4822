import type { IncomingMessage } from 'node:http'
import { startFakeHttpServer, type FakeHttpServer, type FakeReply, type RecordedHttpRequest } from './fake-http-server.ts'

export type { FakeReply } from './fake-http-server.ts'
export type RecordedRequest = RecordedHttpRequest

/**
 * A fake SendGrid v3 API on 127.0.0.1: POST /v3/mail/send answers 202 with an `X-Message-Id`, like SendGrid,
 * unless told otherwise. Every request is recorded. Point SENDGRID_BASE_URL at `url`.
 */
export interface FakeSendGrid extends FakeHttpServer<RecordedRequest> {
  /** requests answered 2xx: the messages SendGrid would send */
  accepted (): RecordedRequest[]
}

/** A SendGrid error body: 400 with this shape is what an invalid recipient gets. */
export const sendGridError = (
  status: number, errors: Array<{ message: string, field: string | null, help?: string | null }>
): FakeReply =>
  ({ status, body: { errors: errors.map((error) => ({ help: null, ...error })) } })

export const SENDGRID_INVALID_RECIPIENT = sendGridError(400, [{
  message: 'Does not contain a valid address.',
  field: 'personalizations.0.to.0.email',
  help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to'
}])

export const sendGridRateLimited = (retryAfterSeconds: number): FakeReply => ({
  status: 429,
  headers: { 'retry-after': String(retryAfterSeconds) },
  body: { errors: [{ field: null, message: 'too many requests' }] }
})

function newSendGridReply () {
  let accepted = 0
  return (request: IncomingMessage): FakeReply => {
    if (request.method !== 'POST' || request.url !== '/v3/mail/send') return { status: 404, body: { errors: [{ message: 'not found', field: null }] } }
    accepted += 1
    return { status: 202, headers: { 'x-message-id': `fake-sg-${accepted}` } }
  }
}

export async function startFakeSendGrid (): Promise<FakeSendGrid> {
  const fake = await startFakeHttpServer({ newDefaultReply: newSendGridReply, record: (request) => request })
  return {
    ...fake,
    accepted: () => fake.requests.filter((request) => request.status >= 200 && request.status < 300)
  }
}

/** The app's settings for sending email through this fake only (no dev outbox). */
export const sendGridEnv = (sendgrid: Pick<FakeSendGrid, 'url'>) => ({
  SENDGRID_API_KEY: 'SG.test-key',
  SENDGRID_BASE_URL: sendgrid.url,
  EMAIL_FROM: 'codes@otp-gate.example'
})
