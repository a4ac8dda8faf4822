import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { smsSegments } from '../../src/delivery/gsm7.ts'
import { magicLink, SAMPLE_LINK_TOKEN, signInLink } from '../../src/delivery/magic-link.ts'
import { MESSAGE_KINDS, sampleValues, type KindValues, type MessageKind } from '../../src/delivery/templates/message-kinds.ts'
import { minutesOf, renderCodeSms } from '../../src/delivery/templates/render.ts'
import { problemResponses } from '../schemas/responses.ts'

const SmsPreviewSchema = Type.Object({
  text: Type.String({ description: 'the SMS exactly as sent, the Web OTP line included' }),
  encoding: Type.Union([Type.Literal('GSM-7'), Type.Literal('UCS-2')]),
  characters: Type.Integer({ description: 'GSM-7 septets (extension characters count two), or UTF-16 units in UCS-2' }),
  segments: Type.Integer({ description: 'SMS parts it costs: one holds 160 GSM-7 characters' })
})
const SMS_PREVIEW_EXAMPLE = { text: 'Your otp-gate code is 012345. It expires in 5 minutes. Never share it.', encoding: 'GSM-7', characters: 70, segments: 1 }

/**
 * Previews of the message templates with sample values, for whoever writes the words: the email's HTML as a
 * page, or the SMS as sent with what it costs. Mounted beside the dev outbox, under the same conditions.
 */
const devTemplateRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { templates } = app.delivery
  const magicLinkUrl = config.MAGIC_LINK_URL
  const samples = {
    appName: config.APP_NAME,
    codeLength: config.OTP_CODE_LENGTH,
    codeMinutes: minutesOf(config.OTP_TTL_SECONDS),
    throttleMinutes: minutesOf(config.OTP_THROTTLE_MAX_SECONDS),
    link: magicLinkUrl === undefined ? undefined : (code: string) => magicLink(magicLinkUrl, '0195f3c2-7d4e-7a61-9c1b-2f8e4d6a9b01', code),
    signInLink: magicLinkUrl === undefined ? undefined : signInLink(magicLinkUrl, SAMPLE_LINK_TOKEN)
  }

  app.get('/templates/:locale/:channel', {
    schema: {
      operationId: 'previewDevTemplate',
      summary: 'A message template rendered with sample values: the email as HTML, or the SMS with its segment count',
      tags: ['dev'],
      security: [],
      params: Type.Object({
        locale: Type.String({ pattern: '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$', maxLength: 35, description: 'BCP 47; a language without templates previews English', examples: ['fr'] }),
        channel: Type.Union([Type.Literal('email'), Type.Literal('sms')], { description: 'email: the HTML part; sms: the text and its cost', examples: ['email'] })
      }, { additionalProperties: false }),
      querystring: Type.Object({
        kind: Type.Union(MESSAGE_KINDS.map((kind) => Type.Literal(kind)), { default: 'code' }),
        changed: Type.Union([Type.Literal('email'), Type.Literal('sms')], { default: 'email', description: 'identifier_changed: which identifier changed' })
      }, { additionalProperties: false }),
      response: {
        200: {
          description: 'The rendered message; `Content-Language` names the language of the templates used',
          headers: { 'content-language': { type: 'string' } },
          content: {
            'text/html': { schema: Type.String({ description: 'the email\'s HTML part' }) },
            'application/json': { schema: SmsPreviewSchema, example: SMS_PREVIEW_EXAMPLE }
          }
        },
        ...problemResponses('validation_failed', 'uri_too_long')
      }
    }
  }, async (request, reply) => {
    const { locale, channel } = request.params
    const { kind, changed } = request.query
    const variants = sampleValues(kind as MessageKind, samples)
    const values = (kind === 'identifier_changed' ? variants.find((v) => (v as KindValues['identifier_changed']).channel === changed) : variants[0]) as never
    reply.header('content-language', templates.template(kind, channel === 'email' ? 'html' : 'sms', locale).language)
    if (channel === 'email') return reply.type('text/html; charset=utf-8').send(templates.renderEmail(kind, locale, values).html)
    const text = kind === 'code'
      ? renderCodeSms({ locale, appName: config.APP_NAME, code: (values as KindValues['code']).code, expiresInSeconds: config.OTP_TTL_SECONDS, webOtpDomain: config.WEBOTP_DOMAIN }, templates)
      : templates.renderSms(kind, locale, values)
    const { encoding, units, segments } = smsSegments(text)
    return reply.type('application/json').send({ text, encoding, characters: units, segments })
  })
}

export default devTemplateRoutes
