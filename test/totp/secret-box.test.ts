import t from 'tap'
import { randomBytes } from 'node:crypto'
import { parseEncryptionKeys, SecretBox } from '../../src/totp/secret-box.ts'

const keyEntry = (kid: string) => `${kid}:${randomBytes(32).toString('base64')}`

t.test('seals with AES-256-GCM and opens what it sealed', async (t) => {
  const box = new SecretBox(parseEncryptionKeys([keyEntry('k1')]))
  const plaintext = randomBytes(20)
  const sealed = box.seal(plaintext, 'totp:user-1:e1')
  t.equal(sealed.kid, 'k1')
  t.equal(Buffer.from(sealed.iv, 'base64url').length, 12)
  t.equal(Buffer.from(sealed.tag, 'base64url').length, 16)
  t.notOk(Buffer.from(sealed.ciphertext, 'base64url').equals(plaintext), 'the ciphertext is not the plaintext')
  t.same(box.open(sealed, 'totp:user-1:e1'), plaintext)
  t.not(box.seal(plaintext, 'totp:user-1:e1').iv, sealed.iv, 'a fresh IV every time')
})

t.test('rotation: the first key seals, every key opens', async (t) => {
  const [oldKey, newKey] = [keyEntry('old'), keyEntry('new')]
  const before = new SecretBox(parseEncryptionKeys([oldKey]))
  const sealed = before.seal(Buffer.from('secret'), 'ctx')
  const after = new SecretBox(parseEncryptionKeys([newKey, oldKey]))
  t.equal(after.open(sealed, 'ctx').toString(), 'secret')
  t.equal(after.seal(Buffer.from('secret'), 'ctx').kid, 'new')
  t.throws(() => new SecretBox(parseEncryptionKeys([newKey])).open(sealed, 'ctx'), /no TOTP encryption key with kid old/)
})

t.test('another context, a changed ciphertext or tag does not open', async (t) => {
  const box = SecretBox.ephemeral()
  const sealed = box.seal(Buffer.from('secret'), 'totp:alice:e1')
  t.throws(() => box.open(sealed, 'totp:bob:e1'))
  const flipped = Buffer.from(sealed.ciphertext, 'base64url')
  flipped[0]! ^= 1
  t.throws(() => box.open({ ...sealed, ciphertext: flipped.toString('base64url') }, 'totp:alice:e1'))
  t.throws(() => box.open({ ...sealed, tag: randomBytes(16).toString('base64url') }, 'totp:alice:e1'))
  t.throws(() => SecretBox.ephemeral().open(sealed, 'totp:alice:e1'), 'another ephemeral key')
})

t.test('TOTP_ENCRYPTION_KEYS entries are checked', async (t) => {
  t.same(parseEncryptionKeys([]), [])
  t.equal(parseEncryptionKeys([`k1:${randomBytes(32).toString('base64url')}`])[0]?.key.length, 32, 'base64url is fine too')
  t.throws(() => parseEncryptionKeys([`k1:${randomBytes(16).toString('base64')}`]), /key k1 must be 32 bytes/)
  t.throws(() => parseEncryptionKeys([randomBytes(32).toString('base64')]), /kid:base64key/)
  t.throws(() => parseEncryptionKeys([`bad kid:${randomBytes(32).toString('base64')}`]), /kid:base64key/)
  t.throws(() => parseEncryptionKeys([keyEntry('k1'), keyEntry('k1')]), /unique/)
  t.throws(() => new SecretBox([]), /at least one key/)
})
