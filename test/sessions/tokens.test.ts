import { execFileSync } from 'node:child_process'
import { createPublicKey, createSecretKey, generateKeyPairSync, randomBytes, sign, verify, type JsonWebKey } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ConfigError, loadConfig, type Config } from '../../src/config.ts'
import { generateSigningKey, hashRefreshToken, loadSigningKeys, newRefreshToken, newSessionId, parseRefreshToken, successorRefreshToken } from '../../src/sessions/tokens.ts'

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

const key = createSecretKey(randomBytes(32))

t.test('refresh tokens: the session id, generation 0, then 128 random bits and a 128-bit tag; hashed whole with SHA-256', async (t) => {
  const sessionId = newSessionId()
  t.match(sessionId, /^[0-9a-f]{24}$/)
  t.not(newSessionId(), sessionId)
  const tokens = new Set(Array.from({ length: 1000 }, () => newRefreshToken(key, sessionId)))
  t.equal(tokens.size, 1000)
  for (const token of [...tokens].slice(0, 10)) {
    const [selector, generation, body] = token.split('.')
    t.equal(selector, sessionId)
    t.equal(generation, '0')
    t.match(body, /^[A-Za-z0-9_-]{43}$/)
    t.equal(Buffer.from(body!, 'base64url').length, 32)
  }
  t.equal(hashRefreshToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  const token = newRefreshToken(key, sessionId)
  t.match(hashRefreshToken(token), /^[0-9a-f]{64}$/)
  t.not(hashRefreshToken(token), hashRefreshToken(newRefreshToken(key, sessionId)))
})

t.test('successors: the next generation, the same for every caller, and ours', async (t) => {
  const sessionId = newSessionId()
  const first = parseRefreshToken(key, newRefreshToken(key, sessionId))!
  const next = successorRefreshToken(key, first)
  t.equal(next, successorRefreshToken(key, first), 'deterministic')
  t.match(parseRefreshToken(key, next), { sessionId, generation: 1, tokenHash: hashRefreshToken(next), token: next })
  t.not(successorRefreshToken(createSecretKey(randomBytes(32)), first), next, 'keyed')
  const third = successorRefreshToken(key, parseRefreshToken(key, next)!)
  t.equal(third.split('.')[1], '2')
})

t.test('parseRefreshToken: the session, generation and hash of a token of ours, or null', async (t) => {
  const sessionId = newSessionId()
  const token = newRefreshToken(key, sessionId)
  t.same(parseRefreshToken(key, token), { sessionId, generation: 0, tokenHash: hashRefreshToken(token), token })
  t.equal(parseRefreshToken(createSecretKey(randomBytes(32)), token), null, 'another key: not ours')
  const body = token.slice(27)
  const forged = Buffer.from(body, 'base64url')
  forged[31] = (forged[31] ?? 0) ^ 1
  for (const malformed of [
    '', body, `.${body}`, `${sessionId}.0.`, `${sessionId}0${body}`, `${sessionId.toUpperCase()}.0.${body}`,
    `${sessionId.slice(1)}.0.${body}`, `${sessionId}.0.${body}A`, `${sessionId}.0.${body.slice(1)}`,
    `${token}\n`, ` ${token}`, `${sessionId}.1.${body}`, `${sessionId}.01.${body}`, `${sessionId}.${body}`,
    `${sessionId}.0.${forged.toString('base64url')}`, `${newSessionId()}.0.${body}`
  ]) {
    t.equal(parseRefreshToken(key, malformed), null, JSON.stringify(malformed))
  }
})
