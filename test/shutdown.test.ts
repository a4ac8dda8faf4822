import t from 'tap'
import { connect } from 'node:net'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildTestApp } from './helpers/build-app.ts'

t.test('while closing, in-flight requests finish and requests arriving on open connections get a 503 problem with Connection: close', async (t) => {
  const app = await buildTestApp(t, { stores: 'memory' })
  app.get('/test-only/slow', async () => {
    await sleep(300)
    return { done: true }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  // a keep-alive connection busy with a slow request when shutdown starts, and a request sent on it after
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (chunk) => { received += chunk })
  socket.write('GET /test-only/slow HTTP/1.1\r\nHost: test\r\n\r\n')
  await sleep(50)
  const closing = app.close()
  await sleep(20)
  socket.write('GET /v1/me HTTP/1.1\r\nHost: test\r\n\r\n')
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
