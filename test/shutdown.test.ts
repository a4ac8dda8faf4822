import t from 'tap'
import { connect } from 'node:net'
import { once } from 'node:events'
import { buildTestApp } from './helpers/build-app.ts'

t.test('while closing, in-flight requests finish and requests arriving on open connections get a 503 problem with Connection: close', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory', loadShedding: false })
  // a slow request the test holds in flight until it lets it go
  let arrived!: () => void
  let release!: () => void
  const inFlight = new Promise<void>((resolve) => { arrived = resolve })
  const released = new Promise<void>((resolve) => { release = resolve })
  app.get('/test-only/slow', async () => {
    arrived()
    await released
    return { done: true }
  })
  let closingStarted!: () => void
  const closingHooksRan = new Promise<void>((resolve) => { closingStarted = resolve })
  app.addHook('preClose', async () => { closingStarted() })
  // HTTP/1.1 pipelining: the late request is answered while the slow one is still held; its answer waits in line
  let lateAnswered!: () => void
  const lateAnswer = new Promise<void>((resolve) => { lateAnswered = resolve })
  app.addHook('onSend', async (request) => { if (request.url === '/v1/me') lateAnswered() })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  // a keep-alive connection busy with the slow request when shutdown starts, and a request sent on it after
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (chunk) => { received += chunk })
  socket.write('GET /test-only/slow HTTP/1.1\r\nHost: test\r\n\r\n')
  await inFlight
  const closing = app.close()
  await closingHooksRan
  socket.write('GET /v1/me HTTP/1.1\r\nHost: test\r\n\r\n')
  await lateAnswer
  release()
  await once(socket, 'close')
  await closing

  const [first = '', second = ''] = received.split(/(?=HTTP\/1\.1 )/)
  t.match(first, /^HTTP\/1\.1 200 /, 'the in-flight request got its normal answer')
  t.match(first, /\{"done":true\}/)
  t.match(second, /^HTTP\/1\.1 503 /, 'the late request is shed')
  t.match(second, /connection: close/i)
  t.match(second, /content-type: application\/problem\+json/i)
  t.match(second, /"code":"service_unavailable"/)
})
