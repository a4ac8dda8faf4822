import t from 'tap'
import { generateRecoveryCodes, hashRecoveryCode, isRecoveryCode, RECOVERY_CODE_COUNT } from '../../src/totp/recovery-codes.ts'

t.test('ten distinct codes of 16 base32 characters in groups of four', async (t) => {
  const codes = generateRecoveryCodes()
  t.equal(codes.length, RECOVERY_CODE_COUNT)
  t.equal(new Set(codes).size, codes.length)
  for (const code of codes) {
    t.match(code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/)
    t.ok(isRecoveryCode(code))
  }
})

t.test('the hash ignores dashes and case, and tells codes apart', async (t) => {
  const [code, other] = generateRecoveryCodes(2) as [string, string]
  t.equal(hashRecoveryCode(code.toUpperCase().replaceAll('-', '')), hashRecoveryCode(code))
  t.ok(isRecoveryCode(code.toUpperCase().replaceAll('-', '')))
  t.not(hashRecoveryCode(code), hashRecoveryCode(other))
  t.notMatch(hashRecoveryCode(code), code.replaceAll('-', ''), 'the hash does not contain the code')
})

t.test('TOTP codes and other strings are not recovery codes', async (t) => {
  for (const input of ['123456', 'abcd-efgh-ijkl', 'abcd-efgh-ijkl-mno1', 'abcd-efgh-ijkl-mnop-qrst', 'abcd efgh ijkl mnop']) {
    t.notOk(isRecoveryCode(input), input)
  }
})
