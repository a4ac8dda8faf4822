import type { IncomingMessage } from 'node:http'
import { startFakeHttpServer, type FakeHttpServer, type FakeReply, type RecordedHttpRequest } from './fake-http-server.ts'

export type { FakeReply } from './fake-http-server.ts'

export interface RecordedRequest extends RecordedHttpRequest {
  /** the per-message status of an SMS API answer: '0' is sent */
  smsStatus: string | null
}

/**
 * A fake Vonage SMS API on 127.0.0.1: POST /sms/json answers 200 with one message of status '0' and a
 * `message-id`, like Vonage, unless told otherwise. Every request is recorded. Point VONAGE_BASE_URL at `url`.
 */
export interface FakeVonage extends FakeHttpServer<RecordedRequest> {
  /** requests answered 200 with status '0': the SMS Vonage would send */
  accepted (): RecordedRequest[]
}

/**
 * Vonage reports most failures as HTTP 200 with a non-zero status per message, e.g. 1 throttled,
 * 3 invalid parameters, 5 internal error, 6 unroutable, 29 non-whitelisted destination.
 */
export const vonageStatus = (status: string, errorText: string): FakeReply =>
  ({ status: 200, body: { 'message-count': '1', messages: [{ status, 'error-text': errorText }] } })

export const VONAGE_NON_WHITELISTED = vonageStatus('29', 'Non White-listed Destination - rejected')
export const VONAGE_THROTTLED = vonageStatus('1', 'Throttled')

const smsStatusOf = (reply: FakeReply): string | null => {
  const [message] = (reply.body as { messages?: Array<{ status?: string }> } | undefined)?.messages ?? []
  return message?.status ?? null
}

function newVonageReply () {
  let sent = 0
  return (request: IncomingMessage, body: { to?: string } | null): FakeReply => {
    if (request.method !== 'POST' || request.url?.split('?')[0] !== '/sms/json') return { status: 404, body: { title: 'Not found' } }
    sent += 1
    return {
      status: 200,
      body: {
        'message-count': '1',
        messages: [{ to: body?.to, 'message-id': `fake-vonage-${sent}`, status: '0', 'remaining-balance': '10.00', 'message-price': '0.0333', network: '310260' }]
      }
    }
  }
}

export async function startFakeVonage (): Promise<FakeVonage> {
  const fake = await startFakeHttpServer<RecordedRequest>({
    newDefaultReply: newVonageReply,
    record: (request, reply) => ({ ...request, smsStatus: smsStatusOf(reply) })
  })
  return {
    ...fake,
    accepted: () => fake.requests.filter((request) => request.status === 200 && request.smsStatus === '0')
  }
}
