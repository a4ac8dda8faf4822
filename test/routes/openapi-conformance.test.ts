import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { adminKeyEnv } from '../helpers/admin.ts'
import { PASSKEY_ENV } from '../helpers/passkeys.ts'
import { documentOf, examplesOf, exampleUrl, operationsOf, type DocumentedOperation } from '../helpers/openapi.ts'

// Every operation of the document is probed the way clients get it wrong (no token, not JSON, bad JSON, too
// large, an unknown property, and its own examples): each answer must be one the document lists.

// per-IP limits on (the product's) but generous, so each response shows whether its route is rate-limited; no
// load shedding, so no 503 comes from a busy machine; every optional route on, so every operation is probed
const admin = adminKeyEnv()
const app = await buildTestApp(t, {
  stores: 'memory',
  loadShedding: false,
  env: { ...admin.env, ...PASSKEY_ENV, RATE_LIMIT_ADMIN_PER_MINUTE: '10000', TOTP_PRIMARY_LOGIN: 'true', RATE_LIMIT_START_PER_MINUTE: '10000', RATE_LIMIT_VERIFY_PER_MINUTE: '10000', RATE_LIMIT_REFRESH_PER_MINUTE: '10000', RATE_LIMIT_DEFAULT_PER_MINUTE: '10000' }
})
const operations = operationsOf(await documentOf(app))

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'
interface Probe { name: string, headers?: Record<string, string>, payload?: string, url?: string }

const freshSession = async () => (await login(app, { email: newEmail('conformance') })).accessToken

/**
 * The request and its answer must both be in the document: the status, and the media type for that status.
 * A 503 is documented on every operation, but with load shedding off and every store in process nothing here is
 * unavailable: a 503 means the probe never reached the route, which proves nothing about it.
 */
function conforms (t: Test, { operation }: DocumentedOperation, probe: string, response: LightMyRequestResponse) {
  t.not(response.statusCode, 503, `${probe}: reached the route, not a 503 (${response.body.slice(0, 120)})`)
  const documented = operation.responses[String(response.statusCode)]
  t.ok(documented, `${probe}: ${response.statusCode} is documented (${response.body.slice(0, 120)})`)
  if (response.body === '') return
  const mediaType = String(response.headers['content-type']).split(';')[0] ?? ''
  t.ok(documented?.content?.[mediaType], `${probe}: ${response.statusCode} as ${mediaType} is documented`)
  if (response.headers['ratelimit-limit'] !== undefined) t.ok(operation.responses['429'], `${probe}: rate-limited, so 429 is documented`)
}

for (const documented of operations) {
  const { method, path, operation } = documented
  t.test(`${operation.operationId}: ${method} ${path} answers as documented`, async (t) => {
    const url = exampleUrl(documented)
    const needsToken = (operation.security?.length ?? 0) > 0
    const send = (probe: Probe) => app.inject({
      method: method as Method, url: probe.url ?? url, headers: probe.headers, payload: probe.payload
    })

    if (needsToken) {
      const anonymous = await send({ name: 'no token' })
      t.equal(anonymous.statusCode, 401, 'no token: 401')
      conforms(t, documented, 'no token', anonymous)
    }
    // the router refuses an over-long path parameter before any hook runs
    if (operation.parameters?.some((parameter) => parameter.in === 'path')) {
      const long = await send({ name: 'long path parameter', url: path.replace(/\{[^}]+\}/g, 'a'.repeat(101)) })
      t.equal(long.statusCode, 414, 'a path parameter over 100 characters: 414')
      conforms(t, documented, 'long path parameter', long)
    }
    // a session of its own: some operations end it
    const isAdmin = operation.security?.some((requirement) => 'adminApiKey' in requirement) === true
    const auth = isAdmin ? admin.headers : needsToken ? bearer(await freshSession()) : {}
    const json = { ...auth, 'content-type': 'application/json' }

    // any method but GET has its body parsed, whether or not the route declares one
    if (method !== 'GET') {
      const refusals = [
        { name: 'not JSON', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello', status: 415, code: 'unsupported_media_type' },
        { name: 'bad JSON', headers: json, payload: '{"a":', status: 400, code: 'bad_request' },
        { name: 'too large', headers: json, payload: JSON.stringify({ a: 'a'.repeat(20_000) }), status: 413, code: 'payload_too_large' }
      ]
      for (const { status, code, ...probe } of refusals) {
        const response = await send(probe)
        t.equal(response.statusCode, status, `${probe.name}: ${status}`)
        t.equal(response.json().code, code, `${probe.name}: ${code}`)
        conforms(t, documented, probe.name, response)
      }
    }

    const body = operation.requestBody?.content['application/json']
    if (body === undefined) {
      conforms(t, documented, 'example request', await send({ name: 'example', headers: auth }))
      if (operation.parameters?.some((parameter) => parameter.in === 'query')) {
        const unknown = await send({ name: 'unknown query', headers: auth, url: `${url}${url.includes('?') ? '&' : '?'}unexpected=1` })
        t.equal(unknown.statusCode, 400, 'an unknown query parameter is refused')
        t.match(unknown.json(), { code: 'validation_failed', errors: [{ field: 'querystring.unexpected' }] })
        conforms(t, documented, 'unknown query', unknown)
      }
      return
    }

    const examples = examplesOf(body)
    for (const [index, example] of examples.entries()) {
      const extra = await send({ name: 'unknown property', headers: json, payload: JSON.stringify({ ...example as object, unexpected: true }) })
      t.equal(extra.statusCode, 400, `example ${index + 1} with an unknown property: 400`)
      t.match(extra.json(), { code: 'validation_failed', errors: [{ field: 'body.unexpected' }] }, 'names the property')
      conforms(t, documented, 'unknown property', extra)
    }
    // no body at all: refused when the document says one is required, accepted when it says it is optional
    const bare = await send({ name: 'no body', headers: auth })
    if (operation.requestBody?.required === false) t.not(bare.statusCode, 400, `no body, documented as optional: accepted (${bare.body.slice(0, 120)})`)
    else t.equal(bare.statusCode, 400, 'no body, documented as required: 400')
    conforms(t, documented, 'no body', bare)
    // last, as an example may end the session
    for (const [index, example] of examples.entries()) {
      const response = await send({ name: `example ${index + 1}`, headers: json, payload: JSON.stringify(example) })
      t.not(response.body && response.json().code, 'validation_failed', `example ${index + 1} is valid (${response.body.slice(0, 160)})`)
      conforms(t, documented, `example ${index + 1}`, response)
    }
  })
}
