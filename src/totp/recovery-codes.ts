import { hash } from 'node:crypto'
import { Secret } from 'otpauth'

export const RECOVERY_CODE_COUNT = 10

/** 16 base32 characters (80 random bits) in groups of four; dashes optional, any case. */
export const RECOVERY_CODE_PATTERN = '^[A-Za-z2-7]{4}(-?[A-Za-z2-7]{4}){3}$'
const recoveryCodeRegExp = new RegExp(RECOVERY_CODE_PATTERN)

export const isRecoveryCode = (input: string): boolean => recoveryCodeRegExp.test(input)

/** `abcd-efgh-ijkl-mnop`: 80 bits, so a plain SHA-256 is enough to store it (no key to lose or rotate). */
export function generateRecoveryCode (): string {
  return new Secret({ size: 10 }).base32.toLowerCase().match(/.{4}/g)!.join('-')
}

export const generateRecoveryCodes = (count = RECOVERY_CODE_COUNT): string[] =>
  Array.from({ length: count }, generateRecoveryCode)

/** What is stored and looked up: the hash of the code without dashes, lower-cased. */
export function hashRecoveryCode (input: string): string {
  return hash('sha256', 'recovery:' + input.replaceAll('-', '').toLowerCase(), 'base64url')
}
