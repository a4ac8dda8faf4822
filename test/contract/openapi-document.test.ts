import t from 'tap'
import { buildTestApp } from '../helpers/build-app.ts'
import { documentOf, examplesOf, operationsOf } from '../helpers/openapi.ts'
import { ERRORS, type ErrorCode } from '../../src/errors.ts'

const PROBLEM = 'application/problem+json'
const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { TOTP_PRIMARY_LOGIN: 'true' } })
const document = await documentOf(app)

t.test('every operation is named, described, tagged and says whether it needs a token', async (t) => {
  const operations = operationsOf(document)
  const tags = new Set(document.tags?.map((tag) => tag.name))
  t.ok(operations.length >= 15, `${operations.length} operations`)

  const ids = operations.map(({ operation }) => operation.operationId)
  t.same(ids.filter((id, index) => id === undefined || ids.indexOf(id) !== index), [], 'operationIds present and unique')
  for (const { method, path, operation } of operations) {
    const name = `${method} ${path}`
    t.ok(operation.summary, `${name}: summary`)
    t.ok(operation.tags?.length && operation.tags.every((tag) => tags.has(tag)), `${name}: a declared tag`)
    t.ok(Array.isArray(operation.security), `${name}: security declared, [] when public`)
  }
})

t.test('every request body and success response shows an example', async (t) => {
  for (const { method, path, operation } of operationsOf(document)) {
    const name = `${method} ${path}`
    if (operation.requestBody) {
      t.same(Object.keys(operation.requestBody.content), ['application/json'], `${name}: JSON body`)
      t.ok(examplesOf(operation.requestBody.content['application/json']).length > 0, `${name}: body example`)
    }
    const successes = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'))
    t.equal(successes.length, 1, `${name}: one success response`)
    for (const [status, response] of successes) {
      if (status === '204') {
        t.notOk(response.content, `${name}: 204 has no body`)
        continue
      }
      t.ok(examplesOf(response.content?.['application/json']).length > 0, `${name}: ${status} example`)
    }
  }
})

t.test('every error response is a Problem served as application/problem+json, naming its codes', async (t) => {
  for (const { method, path, operation } of operationsOf(document)) {
    const name = `${method} ${path}`
    const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400)
    t.ok(operation.responses['500'] && operation.responses['503'], `${name}: 500 and 503, which any route can answer`)
    for (const [status, response] of errors) {
      t.same(Object.keys(response.content ?? {}), [PROBLEM], `${name} ${status}: problem+json only`)
      const media = response.content?.[PROBLEM]
      t.equal(media?.schema?.$ref, '#/components/schemas/Problem', `${name} ${status}: the Problem schema`)
      const codes = [...response.description.matchAll(/`([a-z_]+)`/g)].map((match) => match[1] as ErrorCode)
      t.ok(codes.length > 0 && codes.every((code) => ERRORS[code]?.status === Number(status)), `${name} ${status}: names codes of that status`)
      t.match(media?.example, { status: Number(status), code: codes[0] }, `${name} ${status}: example`)
    }
    if (operation.security?.length) t.ok(operation.responses['401'], `${name}: needs a token, so 401`)
    if (operation.requestBody) t.ok(operation.responses['400'] && operation.responses['413'] && operation.responses['415'], `${name}: a body, so 400, 413, 415`)
  }
})

t.test('the Problem schema lists every stable code', async (t) => {
  const { schemas } = (document as unknown as {
    components: { schemas: Record<string, { properties: { code: { enum: string[] } } }> }
  }).components
  t.same(schemas.Problem?.properties.code.enum.toSorted(), Object.keys(ERRORS).toSorted())
})

t.test('a body that takes exactly one of email or phone says so in its schema', async (t) => {
  interface ObjectSchema {
    type?: string, properties?: Record<string, unknown>, required?: string[], additionalProperties?: boolean
  }
  const operations = operationsOf(document)
  for (const operationId of ['startOtp', 'loginWithTotp', 'startContactVerification']) {
    const found = operations.find(({ operation }) => operation.operationId === operationId)
    const schema = found?.operation.requestBody?.content['application/json']?.schema as { anyOf?: ObjectSchema[], oneOf?: ObjectSchema[] } | undefined
    const branches = schema?.oneOf ?? schema?.anyOf ?? []
    t.equal(branches.length, 2, `${operationId}: two alternatives`)
    for (const [name, other] of [['email', 'phone'], ['phone', 'email']]) {
      const branch = branches.find((item) => item.required?.includes(name as string))
      t.ok(branch, `${operationId}: one requires ${name}`)
      t.notOk(branch?.properties?.[other as string], `${operationId}: and has no ${other}`)
      t.equal(branch?.additionalProperties, false, `${operationId}: and takes nothing else`)
    }
  }
})
