import t from 'tap'
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import { loadConfig } from '../../src/config.ts'
import { ACCESS_TOKEN_TYP, accessTokenSignOptions, createAccessTokenSigner } from '../../src/sessions/access-tokens.ts'
import { createEd25519Signer, preferredEd25519Engine, type Ed25519Engine } from '../../src/sessions/ed25519-signer.ts'
import { loadSigningKeys, type SigningKeys } from '../../src/sessions/tokens.ts'

const ENGINES: Ed25519Engine[] = ['libsodium', 'openssl']

const newKeys = (): SigningKeys => loadSigningKeys(loadConfig({ NODE_ENV: 'test' }))

t.test('this install signs with libsodium (sodium-native, an optional dependency, loads here)', async (t) => {
  t.equal(preferredEd25519Engine, 'libsodium')
})

t.test('libsodium and OpenSSL give the same signature, and it verifies under the public key', async (t) => {
  for (let round = 0; round < 5; round++) {
    const { current } = newKeys()
    const sodium = createEd25519Signer(current.privateKeyPem, 'libsodium')
    const openssl = createEd25519Signer(current.privateKeyPem, 'openssl')
    const publicKey = createPublicKey(current.publicKeyPem)
    for (const size of [0, 1, 64, 200, 1000]) {
      const message = randomBytes(size)
      const signature = sodium(message)
      t.equal(signature.length, 64, `key ${round}, ${size} bytes: 64-byte signature`)
      t.same(signature, openssl(message), `key ${round}, ${size} bytes: same bytes from both engines`)
      t.ok(verify(null, message, publicKey, signature), `key ${round}, ${size} bytes: verifies`)
      const tampered = Buffer.concat([message, Buffer.from([1])])
      t.notOk(verify(null, tampered, publicKey, signature), `key ${round}, ${size} bytes: not for another message`)
    }
  }
})

t.test('each signature is its own Buffer: a later one does not overwrite it', async (t) => {
  const sign = createEd25519Signer(newKeys().current.privateKeyPem, 'libsodium')
  const first = sign(Buffer.from('one'))
  const copy = Buffer.from(first)
  sign(Buffer.from('two'))
  t.same(first, copy)
})

t.test('only an Ed25519 private key is taken', async (t) => {
  const { privateKey } = generateKeyPairSync('x25519')
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  for (const engine of ENGINES) {
    t.throws(() => createEd25519Signer(pem, engine), /needs an Ed25519 private key/, engine)
  }
})

t.test('an access token is the one fast-jwt signs with the same options, byte for byte, with either engine', async (t) => {
  const keys = newKeys()
  const config = loadConfig({ NODE_ENV: 'test', JWT_ISSUER: 'https://auth.example', JWT_AUDIENCE: 'api.example', ACCESS_TOKEN_TTL_SECONDS: '600' })
  const claims = [
    { sub: '65724b0c379611ed9388be25', sid: '65724b0c379611ed9388be26', amr: ['otp'], auth_time: 1_796_478_000, jti: 'a-b_c' },
    { sub: 'u', sid: 's', amr: ['otp', 'totp', 'mfa'], auth_time: 1, jti: 'x', app_metadata: { role: 'admin', plan: 'pro', é: ['ü', 1] } }
  ]
  for (const clock of [1_796_478_722_123, 1_796_478_722_999, 0]) {
    const options = accessTokenSignOptions(config, keys)
    const reference = createSigner({ key: keys.current.privateKeyPem, ...options, clockTimestamp: clock })
    for (const engine of ENGINES) {
      const signer = createEd25519Signer(keys.current.privateKeyPem, engine)
      const sign = createAccessTokenSigner(config, keys, signer, () => clock)
      for (const payload of claims) {
        t.equal(await sign(payload), reference({ ...payload }), `${engine}, clock ${clock}, claims ${payload.sub}`)
      }
    }
  }
})

t.test('an access token verifies as the API verifies it: header, issuer, audience, lifetime', async (t) => {
  const keys = newKeys()
  const config = loadConfig({ NODE_ENV: 'test', ACCESS_TOKEN_TTL_SECONDS: '900' })
  const before = Math.floor(Date.now() / 1000)
  const token = await createAccessTokenSigner(config, keys)({ sub: 'u1', sid: 's1', amr: ['otp'], auth_time: before, jti: 'j1' })
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>
  t.same(header, { alg: 'EdDSA', typ: ACCESS_TOKEN_TYP, kid: keys.current.kid })
  const verifyToken = createVerifier({
    key: keys.current.publicKeyPem, algorithms: ['EdDSA'], allowedIss: config.JWT_ISSUER, allowedAud: config.JWT_AUDIENCE
  })
  const claims = verifyToken(token) as Record<string, unknown>
  t.match(claims, { sub: 'u1', sid: 's1', amr: ['otp'], jti: 'j1', iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE })
  t.equal((claims.exp as number) - (claims.iat as number), 900, 'exp is iat + ACCESS_TOKEN_TTL_SECONDS')
  t.ok((claims.iat as number) >= before, 'iat is now')
  const other = newKeys()
  t.throws(() => createVerifier({ key: other.current.publicKeyPem, algorithms: ['EdDSA'] })(token), 'not under another key')
})
