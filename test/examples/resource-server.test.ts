import t from 'tap'
import { createServer } from 'node:net'
import { generateKeyPairSync } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import { buildResourceServer } from '../../examples/resource-server/app.ts'
import { buildTestApp } from '../helpers/build-app.ts'
import { bearer, login, newEmail } from '../helpers/login.ts'
import { generateSigningKey } from '../../src/sessions/tokens.ts'

/** A loopback port free now, so the issuer URL can name it before otp-gate listens on it. */
const freePort = () => new Promise<number>((resolve, reject) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number }
    probe.close(() => resolve(port))
  }).on('error', reject)
})

t.test('a resource server checks otp-gate access tokens against the JWKS, and survives a key rotation', async (t) => {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const [oldKey, newKey] = [generateSigningKey('2030-old'), generateSigningKey('2030-new')]
  /** otp-gate as deployed with these keys, listening on the issuer's port */
  const otpGate = async (keys: object[]) => {
    const app = await buildTestApp(t, { stores: 'memory', loadShedding: false, env: { JWT_ISSUER: issuer, JWT_AUDIENCE: 'orders-api', JWT_KEYS: JSON.stringify(keys) } })
    await app.listen({ port, host: '127.0.0.1' })
    return app
  }
  const resources = await buildResourceServer({ issuer, audience: 'orders-api' })
  t.teardown(() => resources.close())
  const orders = (token: string) => resources.inject({ method: 'GET', url: '/orders', headers: bearer(token) })

  let app: FastifyInstance = await otpGate([oldKey])
  const before = await login(app, { email: newEmail('resource') })
  const answer = await orders(before.accessToken)
  t.equal(answer.statusCode, 200, 'a token otp-gate issued is accepted')
  t.equal(answer.json().user, before.user.id, 'for its user')

  const { privateKeyPem, kid } = app.signingKeys.current
  const sign = (options: object, key = privateKeyPem, keyId = kid, claims: object = {}) => createSigner({
    key, algorithm: 'EdDSA', kid: keyId, iss: issuer, aud: 'orders-api', header: { alg: 'EdDSA', typ: 'at+jwt' }, expiresIn: 60_000, ...options
  })({ sub: 'u1', sid: 's1', ...claims })
  const now = Math.floor(Date.now() / 1000)
  const stranger = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  t.equal((await orders(sign({}))).statusCode, 200, 'control: a well-formed token of this issuer')
  const refused: Array<[string, string]> = [
    ['another audience', sign({ aud: 'another-api' })],
    ['another issuer', sign({ iss: 'https://evil.example' })],
    ['not an access token (typ JWT)', sign({ header: { alg: 'EdDSA', typ: 'JWT' } })],
    ['expired', sign({ expiresIn: undefined }, privateKeyPem, kid, { iat: now - 120, exp: now - 60 })],
    ['a stranger\'s key under an unknown kid', sign({}, stranger(), 'stranger')],
    ['a stranger\'s key under our kid', sign({}, stranger())]
  ]
  for (const [why, token] of refused) t.equal((await orders(token)).statusCode, 401, why)
  t.equal((await resources.inject({ method: 'GET', url: '/orders' })).statusCode, 401, 'no token')

  // the rotation: a new key signs, the old one is still published for the tokens it signed
  await app.close()
  app = await otpGate([newKey, oldKey])
  const after = await login(app, { email: newEmail('resource-rotated') })
  t.equal(JSON.parse(Buffer.from(after.accessToken.split('.')[0] ?? '', 'base64url').toString()).kid, '2030-new', 'otp-gate signs with the new key')
  t.equal((await orders(after.accessToken)).statusCode, 200, 'the resource server finds the new key without a restart')
  t.equal((await orders(before.accessToken)).statusCode, 200, 'and a token issued before the rotation still works')
})
