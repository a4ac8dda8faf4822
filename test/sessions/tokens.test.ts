import { execFileSync } from 'node:child_process'
import { createPublicKey, generateKeyPairSync, sign, verify, type JsonWebKey } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ConfigError, loadConfig, type Config } from '../../src/config.ts'
import { generateSigningKey, hashRefreshToken, loadSigningKeys, newRefreshToken, newSessionId, parseRefreshToken } from '../../src/sessions/tokens.ts'

const withKeys = (keys: unknown): Config => loadConfig({ JWT_KEYS: typeof keys === 'string' ? keys : JSON.stringify(keys) })
const data = Buffer.from('header.payload')

t.test('unset JWT_KEYS outside production: an ephemeral pair', async (t) => {
  const keys = loadSigningKeys(loadConfig({}))
  t.equal(keys.ephemeral, true)
  t.match(keys.current.kid, /^ephemeral-[0-9a-f]{12}$/)
  t.match(keys.current.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/)
  t.same([...keys.verify.keys()], [keys.current.kid])
  t.equal(keys.verify.get(keys.current.kid), keys.current.publicKeyPem)
  t.equal(keys.jwks.keys.length, 1)
  const [jwk] = keys.jwks.keys
  t.same(Object.keys(jwk!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x'])
  t.match(jwk, { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: keys.current.kid })
  const signature = sign(null, data, keys.current.privateKeyPem)
  t.ok(verify(null, data, keys.current.publicKeyPem, signature), 'verifies with the PEM')
  t.ok(verify(null, data, createPublicKey({ key: jwk!, format: 'jwk' }), signature), 'verifies with the JWKS key')
  t.not(loadSigningKeys(loadConfig({})).current.kid, keys.current.kid, 'a new pair every start')
})

t.test('unset JWT_KEYS in production is refused', async (t) => {
  const config: Config = { ...loadConfig({}), NODE_ENV: 'production' }
  t.throws(() => loadSigningKeys(config), { name: 'ConfigError', message: /JWT_KEYS is required in production/ })
})

t.test('one configured key signs, verifies and is published', async (t) => {
  const key = generateSigningKey('primary')
  const keys = loadSigningKeys(withKeys([key]))
  t.equal(keys.ephemeral, false)
  t.equal(keys.current.kid, 'primary')
  t.same(keys.jwks.keys, [{ kty: 'OKP', crv: 'Ed25519', x: key.x, kid: 'primary', alg: 'EdDSA', use: 'sig' }])
  const signature = sign(null, data, keys.current.privateKeyPem)
  t.ok(verify(null, data, keys.verify.get('primary')!, signature))
})

t.test('rotation: the first key signs, every key verifies and is published', async (t) => {
  const previous = generateSigningKey('2030-01')
  const next = generateSigningKey('2030-02')
  const before = loadSigningKeys(withKeys([previous]))
  const oldSignature = sign(null, data, before.current.privateKeyPem)
  const keys = loadSigningKeys(withKeys([next, previous]))
  t.equal(keys.current.kid, '2030-02')
  t.same([...keys.verify.keys()], ['2030-02', '2030-01'])
  t.same(keys.jwks.keys.map((jwk) => jwk.kid), ['2030-02', '2030-01'])
  t.ok(keys.jwks.keys.every((jwk) => !('d' in jwk)), 'no private member in the JWKS')
  t.notMatch(JSON.stringify(keys.jwks), /"d"/)
  t.ok(verify(null, data, keys.verify.get('2030-01')!, oldSignature), 'tokens signed before the rotation still verify')
  t.notOk(verify(null, data, keys.verify.get('2030-02')!, oldSignature))
})

t.test('malformed JWT_KEYS: one line naming JWT_KEYS', async (t) => {
  const ed = generateSigningKey('ed')
  const { d: _d, ...publicOnly } = ed
  const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'rsa' }
  const ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'ec' }
  const x448 = { ...generateKeyPairSync('ed448').privateKey.export({ format: 'jwk' }), kid: 'ed448' }
  const cases: Array<[unknown, RegExp]> = [
    ['not json', /JWT_KEYS is not valid JSON/],
    ['{"kid":"a"}', /JWT_KEYS must be a non-empty JSON array/],
    [[], /JWT_KEYS must be a non-empty JSON array/],
    [['a string'], /JWT_KEYS\[0\] is not a JWK object/],
    [[ed, null], /JWT_KEYS\[1\] is not a JWK object/],
    [[{ ...ed, kid: undefined }], /JWT_KEYS\[0\] has no kid/],
    [[{ ...ed, kid: '' }], /JWT_KEYS\[0\] has no kid/],
    [[{ ...ed, kid: 7 }], /JWT_KEYS\[0\] has no kid/],
    [[rsa], /JWT_KEYS\[0\] \(kid "rsa"\) is not an Ed25519 private key/],
    [[ec], /JWT_KEYS\[0\] \(kid "ec"\) is not an Ed25519 private key/],
    [[x448], /JWT_KEYS\[0\] \(kid "ed448"\) is not an Ed25519 private key/],
    [[publicOnly], /JWT_KEYS\[0\] \(kid "ed"\) is not an Ed25519 private key/],
    [[{ ...ed, d: 'AAAA' }], /JWT_KEYS\[0\] \(kid "ed"\) is not a valid Ed25519 key/],
    [[ed, generateSigningKey('ed')], /JWT_KEYS has the kid "ed" twice/],
    [[{ ...ed, kid: 'line\nbreak' }, { ...generateSigningKey(), kid: 'line\nbreak' }], /JWT_KEYS has the kid "line\\nbreak" twice/]
  ]
  for (const [value, pattern] of cases) {
    const error = t.throws(() => loadSigningKeys(withKeys(value))) as Error
    t.ok(error instanceof ConfigError, 'a ConfigError')
    t.match(error.message, pattern)
    t.notMatch(error.message, /\n/, 'one line')
  }
})

t.test('generateSigningKey makes an Ed25519 private JWK', async (t) => {
  const key = generateSigningKey()
  t.match(key, { kty: 'OKP', crv: 'Ed25519', d: /^[\w-]{43}$/, x: /^[\w-]{43}$/ })
  t.match(key.kid, /^\d{4}-\d{2}-\d{2}-[0-9a-f]{6}$/)
  t.not(generateSigningKey().kid, key.kid)
  t.equal(generateSigningKey('mine').kid, 'mine')
})

t.test('the generate-jwt-key script prints a JWT_KEYS value', async (t) => {
  const script = fileURLToPath(new URL('../../src/sessions/generate-jwt-key.ts', import.meta.url))
  const output = execFileSync(process.execPath, [script, 'from-script'], { encoding: 'utf8' })
  t.equal(output.trim().split('\n').length, 1, 'one line, ready for .env')
  const value = JSON.parse(output) as JsonWebKey[]
  t.equal(value.length, 1)
  t.equal(value[0]?.kid, 'from-script')
  const keys = loadSigningKeys(withKeys(output.trim()))
  t.equal(keys.current.kid, 'from-script')
  const defaulted = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' })) as JsonWebKey[]
  t.match(defaulted[0]?.kid, /^\d{4}-\d{2}-\d{2}-/)
})

t.test('refresh tokens: the session id, then 256 random bits; hashed whole with SHA-256', async (t) => {
  const sessionId = newSessionId()
  t.match(sessionId, /^[0-9a-f]{24}$/)
  t.not(newSessionId(), sessionId)
  const tokens = new Set(Array.from({ length: 1000 }, () => newRefreshToken(sessionId)))
  t.equal(tokens.size, 1000)
  for (const token of [...tokens].slice(0, 10)) {
    const [selector, secret] = token.split('.')
    t.equal(selector, sessionId)
    t.match(secret, /^[A-Za-z0-9_-]{43}$/)
    t.equal(Buffer.from(secret!, 'base64url').length, 32)
  }
  t.equal(hashRefreshToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  const token = newRefreshToken(sessionId)
  t.equal(hashRefreshToken(token), hashRefreshToken(token))
  t.match(hashRefreshToken(token), /^[0-9a-f]{64}$/)
  t.not(hashRefreshToken(token), hashRefreshToken(newRefreshToken(sessionId)))
})

t.test('parseRefreshToken: the session named and the hash of the whole token, or null', async (t) => {
  const sessionId = newSessionId()
  const token = newRefreshToken(sessionId)
  t.same(parseRefreshToken(token), { sessionId, tokenHash: hashRefreshToken(token) })
  const secret = token.slice(25)
  for (const malformed of [
    '', secret, `.${secret}`, `${sessionId}.`, `${sessionId}${secret}`, `${sessionId.toUpperCase()}.${secret}`,
    `${sessionId.slice(1)}.${secret}`, `${sessionId}.${secret}A`, `${sessionId}.${secret.slice(1)}`, `${sessionId}.${secret.slice(1)}+`,
    `${token}\n`, ` ${token}`, `${sessionId}.${secret}.${secret}`
  ]) {
    t.equal(parseRefreshToken(malformed), null, JSON.stringify(malformed))
  }
})
