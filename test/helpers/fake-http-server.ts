import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedHttpRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** parsed JSON or form body, or the raw text */
  body: any
  /** the HTTP status the fake answered with (or was about to, when the client gave up first) */
  status: number
}

export interface FakeReply {
  status?: number
  headers?: Record<string, string>
  body?: unknown
  /** wait this long before answering, e.g. beyond the client's timeout */
  delayMs?: number
}

export type DefaultReply = (request: IncomingMessage, body: any) => FakeReply

export interface FakeHttpServer<Recorded extends RecordedHttpRequest> {
  url: string
  requests: Recorded[]
  /** answers for the next requests, in order; after them, the default */
  queue (...replies: FakeReply[]): void
  /** the answer once the queue is empty (initially the provider's success answer) */
  answerAlways (reply: FakeReply): void
  /** forget requests, queued answers and the default; message ids start again at 1 */
  reset (): void
  /** resolves once `count` requests were received (answered or not): wait on this, not on time */
  received (count: number): Promise<Recorded[]>
  close (): Promise<void>
}

export interface FakeProvider<Recorded extends RecordedHttpRequest> {
  /** called at start and on every reset, so that the counters behind message ids start again */
  newDefaultReply (): DefaultReply
  /** adds the provider's own fields to each record, e.g. Vonage's per-message status */
  record (request: RecordedHttpRequest, reply: FakeReply): Recorded
}

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

function answer (response: ServerResponse, reply: FakeReply): void {
  if (response.destroyed) return
  const body = reply.body === undefined ? '' : JSON.stringify(reply.body)
  response.writeHead(reply.status ?? 200, { ...(body === '' ? {} : { 'content-type': 'application/json' }), ...reply.headers })
  response.end(body)
}

/**
 * A recording HTTP server on 127.0.0.1 that stands in for a provider's API, answering as `provider` says unless told
 * otherwise.
 */
export async function startFakeHttpServer<Recorded extends RecordedHttpRequest> (
  provider: FakeProvider<Recorded>
): Promise<FakeHttpServer<Recorded>> {
  const requests: Recorded[] = []
  const queued: FakeReply[] = []
  const timers = new Set<NodeJS.Timeout>()
  let fallback: FakeReply | undefined
  let defaultReply = provider.newDefaultReply()
  const waiting = new Set<() => void>()

  const server = createServer(async (request, response) => {
    const body = await readBody(request)
    const reply = queued.shift() ?? fallback ?? defaultReply(request, body)
    requests.push(provider.record({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, status: reply.status ?? 200 }, reply))
    for (const wake of waiting) wake()
    if (!reply.delayMs) return answer(response, reply)
    const timer = setTimeout(() => { timers.delete(timer); answer(response, reply) }, reply.delayMs)
    timers.add(timer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    queue: (...replies) => { queued.push(...replies) },
    answerAlways: (reply) => { fallback = reply },
    received: (count) => new Promise((resolve) => {
      const check = () => {
        if (requests.length < count) return
        waiting.delete(check)
        resolve(requests.slice())
      }
      waiting.add(check)
      check()
    }),
    reset: () => {
      requests.length = 0
      queued.length = 0
      fallback = undefined
      defaultReply = provider.newDefaultReply()
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((error) => error ? reject(error) : resolve()))
    }
  }
}
