import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import { Type } from 'typebox'
import { FieldErrorSchema, ProblemSchema } from '/work/main/plugins/schemas/problem.ts'
import { ChallengeSchema } from '/work/main/plugins/schemas/challenge.ts'
const app = Fastify()
app.addSchema(ProblemSchema)
await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'x', version: '1' } }, refResolver: { buildLocalReference: (json, _b, _f, i) => String(json.$id ?? `def-${i}`) } })
app.post('/a', { schema: { body: Type.Object({ a: Type.String() }, { additionalProperties: false, examples: [{ a: 'x' }] }), response: {
  202: { description: 'sent', content: { 'application/json': { schema: ChallengeSchema, example: { challengeId: 'x' } } } },
  400: { description: 'bad', headers: { 'retry-after': { type: 'integer', description: 'secs' } }, content: { 'application/problem+json': { schema: { $ref: 'Problem#' }, example: { code: 'bad_request' } } } }
} } }, async (req, reply) => {
  if ((req.body as any).a === 'bad') return reply.code(400).type('application/problem+json').send({ type: 'https://x/y', title: 't', status: 400, detail: 'd', code: 'bad_request', errors: [{ field: 'f', message: 'm' }], extra: 1, secret: undefined })
  return reply.code(202).send({ challengeId: 'c', channel: 'email', expiresAt: 'e', resendAfter: 'r', destination: 'd', leaked: 'no' })
})
app.post('/b', { schema: { body: Type.Object({ a: Type.String() }), response: { 202: ChallengeSchema } } }, async () => ({}))
await app.ready()
console.log(app.swagger({ yaml: true }))
for (const a of ['ok', 'bad']) { const r = await app.inject({ method: 'POST', url: '/a', payload: { a } }); console.log(r.statusCode, r.headers['content-type'], r.body) }
