import { Type } from 'typebox'

export const EmailSchema = Type.String({ minLength: 3, maxLength: 254, description: 'email address; trimmed, lower-cased and NFC-normalised', examples: ['jane@example.org'] })
export const PhoneSchema = Type.String({ minLength: 3, maxLength: 32, description: 'phone number, E.164 or national format of DEFAULT_REGION', examples: ['+12015550123'] })
export const LocaleSchema = Type.String({ pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$', maxLength: 35, description: 'BCP 47 language tag for the message; unknown ones fall back to English', examples: ['en', 'fr-CA'] })

/** Exactly one of email or phone; checked by the handler so the error names the field. */
export const ContactBodyProperties = {
  email: Type.Optional(EmailSchema),
  phone: Type.Optional(PhoneSchema)
}
