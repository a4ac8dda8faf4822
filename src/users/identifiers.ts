import { domainToASCII } from 'node:url'
import { isSupportedCountry, parsePhoneNumberFromString, parsePhoneNumberWithError, type PhoneNumberType } from 'libphonenumber-js/max'
import { AppError } from '../errors.ts'
import type { IdentifierKind } from './user-repository.ts'

export type { PhoneNumberType }

export interface Identifier { kind: IdentifierKind, value: string }

// Control characters (CR/LF header injection) and format characters: zero-width spaces and joiners, BOM,
// bidi overrides. None belongs in an address, and invisible ones let two identical-looking addresses differ.
const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\u2028\u2029]/u
// RFC 5321 dot-atom (RFC 6531 adds non-ASCII letters), without % and !: the percent hack and bang paths are
// source routes some relays still follow, so one mailbox would have several spellings, and a code could be
// relayed where the sender chose. Quoted local parts are legal but only ever seen in attacks and tests.
const LOCAL_PART = /^[\p{L}\p{N}\p{M}#$&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}\p{M}#$&'*+/=?^_`{|}~-]+)*$/u
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?$/u
const ASCII_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const MAX_PHONE_INPUT = 64

function invalid (kind: 'email' | 'phone', field: string, message: string): AppError {
  return new AppError('validation_failed', {
    detail: `Invalid ${kind}: ${message}.`,
    extensions: { errors: [{ field, message }] }
  })
}

const octets = (text: string): number => Buffer.byteLength(text, 'utf8')

const isHostName = (labels: string[], label: RegExp): boolean =>
  labels.length >= 2 && labels.every((item) => label.test(item)) && !/^\d+$/.test(labels.at(-1) ?? '')

/**
 * The one spelling of an address: NFKC (fullwidth and other compatibility forms fold), lower-cased, trimmed,
 * the domain in its ASCII form (IDNA UTS 46, so bücher.example and xn--bcher-kva.example are one account).
 * AppError('validation_failed') naming `field` (body.email) otherwise.
 */
export function normaliseEmail (raw: string, field = 'body.email'): string {
  if (HIDDEN_CHARACTERS.test(raw)) throw invalid('email', field, 'must not contain control or invisible characters')
  // lower-casing can leave a string that is not NFKC any more (U+0130), so normalise on both sides of it
  const email = raw.normalize('NFKC').trim().toLowerCase().normalize('NFKC')
  if (email === '') throw invalid('email', field, 'is required')
  if (/\s/u.test(email)) throw invalid('email', field, 'must not contain spaces')
  const parts = email.split('@')
  if (parts.length !== 2) throw invalid('email', field, 'must contain exactly one @')
  const [local = '', unicodeDomain = ''] = parts
  // SMTP limits are in octets: 64 for a local part, 254 for a path
  if (local === '' || octets(local) > 64) throw invalid('email', field, 'must have 1 to 64 characters before the @')
  if (!LOCAL_PART.test(local)) throw invalid('email', field, 'is not a valid email address')
  // checked before the conversion too, which would percent-decode and read numbers as IPv4 addresses
  const domain = isHostName(unicodeDomain.split('.'), DOMAIN_LABEL) ? domainToASCII(unicodeDomain) : ''
  if (!isHostName(domain.split('.'), ASCII_LABEL)) throw invalid('email', field, 'must have a domain such as example.com')
  const address = `${local}@${domain}`
  if (octets(address) > 254) throw invalid('email', field, 'must be at most 254 characters')
  return address
}

/**
 * E.164 form of a valid number; national formats are read in defaultRegion. AppError naming `field` (body.phone)
 * otherwise.
 */
export function normalisePhone (raw: string, defaultRegion: string, field = 'body.phone'): string {
  if (HIDDEN_CHARACTERS.test(raw)) throw invalid('phone', field, 'must not contain control or invisible characters')
  const text = raw.normalize('NFC').trim()
  if (text === '') throw invalid('phone', field, 'is required')
  if (text.length > MAX_PHONE_INPUT) throw invalid('phone', field, `must be at most ${MAX_PHONE_INPUT} characters`)
  const defaultCountry = isSupportedCountry(defaultRegion) ? defaultRegion : undefined
  let number
  try {
    // extract: false, so "call +1 212…" or trailing junk is refused rather than quietly cut out
    number = parsePhoneNumberWithError(text, { defaultCountry, extract: false })
  } catch {
    throw invalid('phone', field, 'is not a phone number')
  }
  // E.164 has no extension: accepting one would silently send the code to the switchboard
  if (number.ext !== undefined) throw invalid('phone', field, 'must not have an extension')
  if (!number.isValid()) throw invalid('phone', field, 'is not a valid phone number')
  return number.number
}

/** ISO 3166 region of an E.164 number (per the full metadata), null when unknown. */
export function phoneCountry (e164: string): string | null {
  return parsePhoneNumberFromString(e164)?.country ?? null
}

/** MOBILE, FIXED_LINE, PREMIUM_RATE, VOIP…, null when the metadata cannot tell. */
export function phoneNumberType (e164: string): PhoneNumberType | null {
  return parsePhoneNumberFromString(e164)?.getType() ?? null
}

/** Exactly one of email and phone, normalised; both or neither is a validation_failed on body. */
export function normaliseIdentifier (
  input: { email?: string | undefined, phone?: string | undefined }, defaultRegion: string
): Identifier {
  const { email, phone } = input
  if ((email === undefined) === (phone === undefined)) {
    throw new AppError('validation_failed', {
      detail: 'Give exactly one of email and phone.',
      extensions: { errors: [{ field: 'body', message: 'must have exactly one of email and phone' }] }
    })
  }
  if (email !== undefined) return { kind: 'email', value: normaliseEmail(email) }
  return { kind: 'phone', value: normalisePhone(phone as string, defaultRegion) }
}
