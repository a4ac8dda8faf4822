import { createHmac, randomInt, type KeyObject } from 'node:crypto'
import { randomBytes } from '../random-bytes.ts'

/** A numeric code of `length` digits, uniformly drawn, leading zeros kept. */
export function generateCode (length: number): string {
  return String(randomInt(0, 10 ** length)).padStart(length, '0')
}

/** What the store keeps instead of the code: bound to the challenge id, so a hash is useless elsewhere. */
export function hashCode (pepper: KeyObject | string, challengeId: string, code: string): string {
  return createHmac('sha256', pepper).update(challengeId + code).digest('base64url')
}

/**
 * Names a destination in key names without revealing it. 128 bits are plenty against collisions
 * and keep keys short; the prefix is domain separation from code hashes.
 */
export function destinationKey (pepper: KeyObject | string, destination: string): string {
  return createHmac('sha256', pepper).update('destination:' + destination).digest('hex').slice(0, 32)
}

/** `<bucket>.<22 chars>`: the bucket keeps a destination's keys on one Cluster slot (see CHALLENGE_ID_PATTERN). */
export function newChallengeId (destinationKeyHex: string): string {
  return `${destinationKeyHex.slice(0, 4)}.${randomBytes(16).toString('base64url')}`
}

/** A sign-in link's token is `<challengeId>.<secret>`: the id finds the challenge, the secret (256 bits) proves it. */
export const LINK_TOKEN_PATTERN = '^[0-9a-f]{4}\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$'

export const newLinkSecret = (): string => randomBytes(32).toString('base64url')

/** What the store keeps of a link's secret: bound to the challenge id, apart from code hashes by its prefix. */
export function hashLinkSecret (pepper: KeyObject | string, challengeId: string, secret: string): string {
  return createHmac('sha256', pepper).update(`link:${challengeId}:${secret}`).digest('base64url')
}
