import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** parsed JSON, or the raw text when it is not JSON */
  body: any
  /** the status the fake answered with (or was about to, when the client gave up first) */
  status: number
}

export interface FakeReply {
  status?: number
  headers?: Record<string, string>
  body?: unknown
  /** wait this long before answering, e.g. beyond the client's timeout */
  delayMs?: number
}

/**
 * A fake SendGrid v3 API on 127.0.0.1: POST /v3/mail/send answers 202 with an `X-Message-Id`, like SendGrid,
 * unless told otherwise. Every request is recorded. Point SENDGRID_BASE_URL at `url`.
 */
export interface FakeSendGrid {
  url: string
  requests: RecordedRequest[]
  /** requests answered 2xx: the messages SendGrid would send */
  accepted (): RecordedRequest[]
  /** answers for the next requests, in order; after them, the default */
  queue (...replies: FakeReply[]): void
  /** the answer once the queue is empty (initially 202 Accepted) */
  answerAlways (reply: FakeReply): void
  /** forget requests, queued answers and the default; message ids start again at 1 */
  reset (): void
  close (): Promise<void>
}

/** A SendGrid error body: 400 with this shape is what an invalid recipient gets. */
export const sendGridError = (status: number, errors: Array<{ message: string, field: string | null, help?: string | null }>): FakeReply =>
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

async function readBody (request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return text === '' ? null : JSON.parse(text)
  } catch {
    return text
  }
}

export async function startFakeSendGrid (): Promise<FakeSendGrid> {
  const requests: RecordedRequest[] = []
  const queued: FakeReply[] = []
  const timers = new Set<NodeJS.Timeout>()
  let fallback: FakeReply | undefined
  let accepted = 0

  const defaultReply = (request: IncomingMessage): FakeReply => {
    if (request.method !== 'POST' || request.url !== '/v3/mail/send') return { status: 404, body: { errors: [{ message: 'not found', field: null }] } }
    accepted += 1
    return { status: 202, headers: { 'x-message-id': `fake-sg-${accepted}` } }
  }

  const answer = (response: ServerResponse, reply: FakeReply) => {
    if (response.destroyed) return
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body)
    response.writeHead(reply.status ?? 200, { ...(body === '' ? {} : { 'content-type': 'application/json' }), ...reply.headers })
    response.end(body)
  }

  const server = createServer(async (request, response) => {
    const body = await readBody(request)
    const reply = queued.shift() ?? fallback ?? defaultReply(request)
    requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, status: reply.status ?? 200 })
    if (!reply.delayMs) return answer(response, reply)
    const timer = setTimeout(() => { timers.delete(timer); answer(response, reply) }, reply.delayMs)
    timers.add(timer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted: () => requests.filter((request) => request.status >= 200 && request.status < 300),
    queue: (...replies) => { queued.push(...replies) },
    answerAlways: (reply) => { fallback = reply },
    reset: () => { requests.length = 0; queued.length = 0; fallback = undefined; accepted = 0 },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((error) => error ? reject(error) : resolve()))
    }
  }
}
