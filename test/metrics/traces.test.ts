import t from 'tap'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { SpanKind } from '@opentelemetry/api'
import { buildTestApp } from '../helpers/build-app.ts'
import { codeFromOutbox, deliveriesSettled, newEmail, startLogin } from '../helpers/login.ts'

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

t.test('the span tree of one verify: the route, its Redis scripts and MongoDB commands, and no personal data', async (t) => {
  const exporter = new InMemorySpanExporter()
  const app = await buildTestApp(t, { loadShedding: false, outbox: true, spanExporter: exporter })
  const email = newEmail('traced')
  const started = await startLogin(app, { email })
  const code = await codeFromOutbox(app, email)
  await deliveriesSettled(app)

  const send = exporter.getFinishedSpans().find((span) => span.name === 'outbox send')
  t.ok(send, 'the provider call has a span')
  t.equal(send?.kind, SpanKind.CLIENT)
  t.same(send?.attributes, { 'otp_gate.channel': 'email', 'otp_gate.provider': 'outbox', 'otp_gate.attempt': 1 })

  exporter.reset()
  const verified = await app.inject({ method: 'POST', url: '/v1/auth/otp/verify', payload: { challengeId: started.json().challengeId, code } })
  t.equal(verified.statusCode, 200)
  const spans = exporter.getFinishedSpans()
  const roots = spans.filter((span) => parentOf(span) === undefined)
  t.equal(roots.length, 1, `one root: ${roots.map((span) => span.name).join(', ')}`)
  const root = roots[0]!
  t.equal(root.name, 'request')
  t.equal(root.kind, SpanKind.SERVER)
  t.match(root.attributes, { 'http.route': '/v1/auth/otp/verify', 'url.path': '/v1/auth/otp/verify', 'http.request.method': 'POST', 'http.response.status_code': 200 })
  t.ok(spans.every((span) => span.spanContext().traceId === root.spanContext().traceId), 'one trace')

  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]))
  const underRoot = (span: ReadableSpan) => {
    for (let parent = parentOf(span); parent !== undefined; parent = parentOf(byId.get(parent)!)) {
      if (parent === root.spanContext().spanId) return true
      if (!byId.has(parent)) return false
    }
    return false
  }
  const handler = spans.find((span) => span.name.startsWith('handler'))
  t.ok(handler && parentOf(handler) === root.spanContext().spanId, 'the handler under the request')
  // ioredis sends a script's source (EVAL) the first time on a connection, its SHA-1 (EVALSHA) after
  const script = spans.find((span) => /^EVAL(SHA)? otpVerifyChallenge$/.test(span.name))
  t.ok(script, 'the verify script has a span')
  t.equal(script && parentOf(script), handler?.spanContext().spanId, 'under the handler')
  t.match(script?.attributes, { 'db.system.name': 'redis', 'db.operation.name': /^EVAL(SHA)?$/, 'otp_gate.redis.script': 'otpVerifyChallenge' })
  const mongo = spans.filter((span) => span.attributes['db.system.name'] === 'mongodb')
  t.ok(mongo.length >= 2, `MongoDB commands: ${mongo.map((span) => span.name).join(', ')}`)
  t.ok(mongo.some((span) => span.name === 'insert sessions'), 'the session insert')
  t.ok(mongo.every(underRoot), 'every MongoDB command under the request')
  t.ok(spans.filter((span) => span.attributes['db.system.name'] === 'redis').every(underRoot), 'every Redis command under the request')

  const body = verified.json()
  const personal = [email, code, started.json().challengeId, body.accessToken, body.refreshToken, body.user.id, '127.0.0.1']
  const values = spans.flatMap((span) => [span.name, ...Object.values(span.attributes).map(String)])
  for (const secret of personal) t.notOk(values.some((value) => value.includes(secret)), `no ${secret.slice(0, 10)}… in a span`)
})

t.test('the MongoDB driver builds command events only when tracing uses them', async (t) => {
  const untraced = await buildTestApp(t)
  t.equal(untraced.mongo?.getClient().options.monitorCommands, false, 'tracing off: no command events')
  const traced = await buildTestApp(t, { spanExporter: new InMemorySpanExporter() })
  t.equal(traced.mongo?.getClient().options.monitorCommands, true, 'tracing on: command events for the MongoDB spans')
})
