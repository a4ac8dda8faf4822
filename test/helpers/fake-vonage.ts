import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** parsed JSON or form body, or the raw text */
  body: any
  /** the HTTP status the fake answered with (or was about to, when the client gave up first) */
  status: number
  /** the per-message status of an SMS API answer: '0' is sent */
  smsStatus: string | null
}

export interface FakeReply {
  status?: number
  headers?: Record<string, string>
  body?: unknown
  /** wait this long before answering, e.g. beyond the client's timeout */
  delayMs?: number
}

/**
 * A fake Vonage SMS API on 127.0.0.1: POST /sms/json answers 200 with one message of status '0' and a
 * `message-id`, like Vonage, unless told otherwise. Every request is recorded. Point VONAGE_BASE_URL at `url`.
 */
export interface FakeVonage {
  url: string
  requests: RecordedRequest[]
  /** requests answered 200 with status '0': the SMS Vonage would send */
  accepted (): RecordedRequest[]
  /** answers for the next requests, in order; after them, the default */
  queue (...replies: FakeReply[]): void
  /** the answer once the queue is empty (initially success) */
  answerAlways (reply: FakeReply): void
  /** forget requests, queued answers and the default; message ids start again at 1 */
  reset (): void
  close (): Promise<void>
}

/**
 * Vonage reports most failures as HTTP 200 with a non-zero status per message, e.g. 1 throttled,
 * 3 invalid parameters, 5 internal error, 6 unroutable, 29 non-whitelisted destination.
 */
export const vonageStatus = (status: string, errorText: string): FakeReply =>
  ({ status: 200, body: { 'message-count': '1', messages: [{ status, 'error-text': errorText }] } })

export const VONAGE_NON_WHITELISTED = vonageStatus('29', 'Non White-listed Destination - rejected')
export const VONAGE_THROTTLED = vonageStatus('1', 'Throttled')

async function readBody (request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text))
  try {
    return text === '' ? null : JSON.parse(text)
  } catch {
    return text
  }
}

const smsStatusOf = (reply: FakeReply): string | null => {
  const [message] = (reply.body as { messages?: Array<{ status?: string }> } | undefined)?.messages ?? []
  return message?.status ?? null
}

export async function startFakeVonage (): Promise<FakeVonage> {
  const requests: RecordedRequest[] = []
  const queued: FakeReply[] = []
  const timers = new Set<NodeJS.Timeout>()
  let fallback: FakeReply | undefined
  let sent = 0

  const defaultReply = (request: IncomingMessage, body: { to?: string } | null): FakeReply => {
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

  const answer = (response: ServerResponse, reply: FakeReply) => {
    if (response.destroyed) return
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body)
    response.writeHead(reply.status ?? 200, { ...(body === '' ? {} : { 'content-type': 'application/json' }), ...reply.headers })
    response.end(body)
  }

  const server = createServer(async (request, response) => {
    const body = await readBody(request)
    const reply = queued.shift() ?? fallback ?? defaultReply(request, body as { to?: string } | null)
    requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, status: reply.status ?? 200, smsStatus: smsStatusOf(reply) })
    if (!reply.delayMs) return answer(response, reply)
    const timer = setTimeout(() => { timers.delete(timer); answer(response, reply) }, reply.delayMs)
    timers.add(timer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted: () => requests.filter((request) => request.status === 200 && request.smsStatus === '0'),
    queue: (...replies) => { queued.push(...replies) },
    answerAlways: (reply) => { fallback = reply },
    reset: () => { requests.length = 0; queued.length = 0; fallback = undefined; sent = 0 },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((error) => error ? reject(error) : resolve()))
    }
  }
}
