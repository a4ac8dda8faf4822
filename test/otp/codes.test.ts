import t from 'tap'
import { createHmac } from 'node:crypto'
import { destinationKey, generateCode, hashCode, hashLinkSecret, newChallengeId } from '../../src/otp/codes.ts'
import { hmacKey } from '../../src/hmac-key.ts'
import { CHALLENGE_ID_PATTERN } from '../../src/otp/otp-store.ts'

t.test('codes are digits of the configured length, leading zeros kept', async (t) => {
  for (let length = 4; length <= 10; length++) {
    const codes = Array.from({ length: 200 }, () => generateCode(length))
    t.ok(codes.every((code) => new RegExp(`^\\d{${length}}$`).test(code)), `${length} digits`)
  }
  const short = Array.from({ length: 2000 }, () => generateCode(4))
  t.ok(short.some((code) => code.startsWith('0')), 'a leading zero shows up about one time in ten')
  t.ok(new Set(short).size > 1500, 'codes are spread out')
})

t.test('a code hash is an HMAC of the challenge id and the code', async (t) => {
  const pepper = 'p'.repeat(32)
  const hash = hashCode(pepper, 'abcd.id', '012345')
  t.equal(hash, createHmac('sha256', pepper).update('abcd.id012345').digest('base64url'))
  t.not(hashCode(pepper, 'abcd.other', '012345'), hash, 'bound to the challenge')
  t.not(hashCode('q'.repeat(32), 'abcd.id', '012345'), hash, 'bound to the pepper')
  t.notMatch(hash, /012345/)
})

t.test('the pepper made a key once hashes as the string did: codes and links issued before a deploy still verify', async (t) => {
  for (const pepper of ['p'.repeat(32), 'pépper-ünïcode-✓-0123456789abcdef']) {
    const key = hmacKey(pepper)
    t.equal(hashCode(key, 'abcd.id', '012345'), hashCode(pepper, 'abcd.id', '012345'), 'code hash')
    t.equal(destinationKey(key, 'jane@example.org'), destinationKey(pepper, 'jane@example.org'), 'destination key')
    t.equal(hashLinkSecret(key, 'abcd.id', 's3cret'), hashLinkSecret(pepper, 'abcd.id', 's3cret'), 'link hash')
  }
  t.not(hashCode(hmacKey('q'.repeat(32)), 'abcd.id', '012345'), hashCode('p'.repeat(32), 'abcd.id', '012345'), 'another pepper, another hash')
})

t.test('destination keys and challenge ids', async (t) => {
  const key = destinationKey('p'.repeat(32), 'jane@example.org')
  t.match(key, /^[0-9a-f]{32}$/)
  t.equal(destinationKey('p'.repeat(32), 'jane@example.org'), key, 'stable')
  t.not(destinationKey('q'.repeat(32), 'jane@example.org'), key, 'keyed by the pepper')
  const ids = Array.from({ length: 100 }, () => newChallengeId(key))
  t.ok(ids.every((id) => new RegExp(CHALLENGE_ID_PATTERN).test(id) && id.startsWith(`${key.slice(0, 4)}.`)), 'bucket from the destination key')
  t.equal(new Set(ids).size, 100, 'random part differs')
})
