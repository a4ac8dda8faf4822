// GSM 03.38: the basic table costs one septet per character, the extension table two (escape + character).
const BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'
const EXTENSION = '\f^{}\\[~]|€'

/** One single-part SMS carries 160 septets of GSM-7 (against 70 UCS-2 characters). */
export const GSM7_SINGLE_SEGMENT_SEPTETS = 160

/**
 * Septets the text takes in GSM-7, or null when a character is outside the GSM-7 alphabet (the SMS would go as UCS-2).
 */
export function gsm7Septets (text: string): number | null {
  let septets = 0
  for (const character of text) {
    if (BASIC.includes(character)) septets += 1
    else if (EXTENSION.includes(character)) septets += 2
    else return null
  }
  return septets
}

export const isGsm7 = (text: string): boolean => gsm7Septets(text) !== null

export interface SmsSegments {
  /** GSM-7 when every character is in its alphabet, UCS-2 otherwise */
  encoding: 'GSM-7' | 'UCS-2'
  /** septets (GSM-7) or UTF-16 code units (UCS-2) */
  units: number
  segments: number
}

/** How many SMS the text costs: a multipart SMS loses 7 septets (or 3 UCS-2 units) per part to its header. */
export function smsSegments (text: string): SmsSegments {
  const septets = gsm7Septets(text)
  if (septets !== null) return { encoding: 'GSM-7', units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) }
  return { encoding: 'UCS-2', units: text.length, segments: text.length <= 70 ? 1 : Math.ceil(text.length / 67) }
}
