import { Type, type TProperties } from 'typebox'

export const EmailSchema = Type.String({ minLength: 3, maxLength: 254, description: 'email address; trimmed, NFKC-normalised and lower-cased, its domain in ASCII (IDNA): one account for every spelling', examples: ['jane@example.org'] })
export const PhoneSchema = Type.String({ minLength: 3, maxLength: 32, description: 'phone number, E.164 or national format of DEFAULT_REGION', examples: ['+12015550123'] })
export const LocaleSchema = Type.String({ pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$', maxLength: 35, description: 'BCP 47 language tag for the message; unknown ones fall back to English', examples: ['en', 'fr-CA'] })

/**
 * A body with exactly one of email or phone beside the same other properties: a union of two closed objects,
 * so the document and generated clients carry the rule. Both or neither is one error naming the two
 * (plugins/validation-errors.ts).
 */
export function contactBodySchema<Properties extends TProperties> (properties: Properties, examples: object[]) {
  return Type.Union([
    Type.Object({ email: EmailSchema, ...properties }, { additionalProperties: false }),
    Type.Object({ phone: PhoneSchema, ...properties }, { additionalProperties: false })
  ], { description: 'exactly one of email or phone', examples })
}
