import { createCipheriv, createDecipheriv, createHash, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'
import { randomBytes } from '../random-bytes.ts'
import type { Config } from '../config.ts'
import { DeliveryError } from './senders.ts'

/** What a delivery job must not hold in the clear. */
export interface SealedContent {
  code: string
  /** normalised email, or E.164 phone number */
  to: string
  /** a sign-in link's token, sent instead of the code (then '') while the destination's codes are suspended */
  link?: string | undefined
}

const ALGORITHM = 'aes-256-gcm'
const HKDF_INFO = 'otp-gate delivery job key v1'

interface JobKey { kid: string, key: KeyObject }

// the kid tells which key sealed a job, so a job sealed under OTP_PEPPER_PREVIOUS still opens after a rotation;
// a KeyObject made once, not a Buffer turned into one on every seal (a start's hot path)
const jobKey = (key: Buffer): JobKey => ({ kid: createHash('sha256').update(key).digest('base64url').slice(0, 8), key: createSecretKey(key) })

/** A 32-byte key from the code pepper, distinct from every other use of it. */
export const keyFromPepper = (pepper: string): Buffer => Buffer.from(hkdfSync('sha256', pepper, '', HKDF_INFO, 32))

/**
 * Seals the code and destination of a delivery job with AES-256-GCM: `kid.iv.ciphertext.tag`, base64url.
 * `context` (the job's challenge id, channel and expiry) is authenticated, not stored, so a payload copied onto
 * another job does not open. The first key seals; every key opens what it sealed.
 */
export class JobCipher {
  readonly #keys: JobKey[]

  constructor (keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('JobCipher needs at least one key')
    for (const key of keys) if (key.length !== 32) throw new Error('a delivery job key must be 32 bytes')
    this.#keys = keys.map(jobKey)
  }

  seal (content: SealedContent, context: string): string {
    const fields = content.link === undefined ? [content.code, content.to] : [content.code, content.to, content.link]
    return this.sealText(JSON.stringify(fields), context)
  }

  /** Throws when no key has the kid, or the ciphertext, tag or context do not match. */
  open (sealed: string, context: string): SealedContent {
    const [code, to, link] = JSON.parse(this.openText(sealed, context)) as [string, string, string?]
    return link === undefined ? { code, to } : { code, to, link }
  }

  /** Any text a job must not hold in the clear (a webhook body, with its IPs and user agents), sealed as a code is. */
  sealText (text: string, context: string): string {
    const { kid, key } = this.#keys[0]!
    const iv = randomBytes(12)
    const cipher = createCipheriv(ALGORITHM, key, iv).setAAD(Buffer.from(context, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(Buffer.from(text, 'utf8')), cipher.final()])
    return [kid, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
  }

  /** Throws as `open` does. */
  openText (sealed: string, context: string): string {
    const [kid, iv, ciphertext, tag] = sealed.split('.')
    const key = this.#keys.find((candidate) => candidate.kid === kid)?.key
    if (key === undefined || iv === undefined || ciphertext === undefined || tag === undefined) throw new Error('the delivery job was sealed with a key this process does not have')
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'))
      .setAAD(Buffer.from(context, 'utf8'))
      .setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
  }
}

interface SealedJob { challengeId: string, channel: string, expiresAt: number }

/** The context a job's payload is bound to. */
export const sealingContext = (job: SealedJob): string => `${job.challengeId}|${job.channel}|${job.expiresAt}`

/** A queued job's sealed content; one that does not open is rejected, as no retry will open it. */
export function openJob (cipher: JobCipher, job: SealedJob & { sealed: string }): SealedContent {
  try {
    return cipher.open(job.sealed, sealingContext(job))
  } catch {
    throw new DeliveryError('rejected', 'job: the sealed payload does not open (DELIVERY_JOB_KEY or OTP_PEPPER differs)')
  }
}

/**
 * The cipher as configured: DELIVERY_JOB_KEY, else keys derived from OTP_PEPPER (and OTP_PEPPER_PREVIOUS, to open
 * jobs queued before a rotation). With neither, a random key: only this process can open its jobs, which is
 * what the in-process queue needs and what a separate worker cannot work with.
 */
export function createJobCipher (config: Config): JobCipher {
  if (config.DELIVERY_JOB_KEY !== undefined) return new JobCipher([Buffer.from(config.DELIVERY_JOB_KEY, 'base64')])
  if (config.OTP_PEPPER === undefined) return new JobCipher([randomBytes(32)])
  const peppers = config.OTP_PEPPER_PREVIOUS === undefined
    ? [config.OTP_PEPPER]
    : [config.OTP_PEPPER, config.OTP_PEPPER_PREVIOUS]
  return new JobCipher(peppers.map(keyFromPepper))
}

/** Whether processes sharing this config can open each other's jobs: a separate worker needs it. */
export const hasSharedJobKey = (config: Config): boolean =>
  config.DELIVERY_JOB_KEY !== undefined || config.OTP_PEPPER !== undefined
