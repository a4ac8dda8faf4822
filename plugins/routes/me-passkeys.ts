import { Type } from 'typebox'
import type { RegistrationResponseJSON } from '@simplewebauthn/server'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../src/config.ts'
import { routeLimits } from '../rate-limit.ts'
import { BODY_ERRORS, jsonResponse, problemResponses } from '../schemas/responses.ts'
import { ReauthTokenSchema } from '../schemas/authenticator.ts'
import {
  CreationOptionsSchema, PasskeyListSchema, PasskeyNameSchema, PasskeySchema, REGISTRATION_CREDENTIAL_EXAMPLE,
  RegistrationCredentialSchema, passkeyView
} from '../schemas/passkey.ts'
import { callerOf } from '../auth.ts'
import { passkeysOff, whenOn } from '../passkeys-off.ts'

const security = [{ bearerAuth: [] }]
const tags = ['passkeys']
const PROOF = 'Needs proof that the caller holds the account, as changing a sign-in identifier does: an access token whose sign-in (`auth_time`) is less than 5 minutes old, or a `reauthToken` from `POST /v1/me/reauth/verify`; 403 `reauthentication_required` otherwise.'
const ProofBodySchema = Type.Object({ reauthToken: Type.Optional(ReauthTokenSchema) }, { additionalProperties: false, examples: [{}, { reauthToken: '1795428300.q3Vd0yH2m8l9mWm2c1q0Zr3k2f8Jx7bXy6vQm2lJ0sA' }] })
const IdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'the id of one of the user\'s passkeys' }) }, { additionalProperties: false })

/** The signed-in user's passkeys (docs/passkeys.md). Every route needs a bearer token; 404 while passkeys are off. */
const mePasskeyRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const { passkeyRegistration } = app
  if (passkeyRegistration === null) app.addHook('onRequest', passkeysOff)
  app.addHook('preParsing', app.authenticate)
  const { startLimit, verifyLimit, defaultLimit } = routeLimits(config)

  app.post('/options', {
    config: { ...startLimit, optionalBody: true },
    schema: {
      operationId: 'passkeyCreationOptions',
      summary: 'Options to create a passkey: pass them to navigator.credentials.create()',
      description: `${PROOF} The body of the answer is the PublicKeyCredentialCreationOptionsJSON itself (a discoverable credential, user verification preferred, attestation none, the user's passkeys excluded); its challenge answers once, within 5 minutes, for this user. 409 \`passkey_limit_reached\` when the account has 10.`,
      tags,
      security,
      body: ProofBodySchema,
      response: { 200: jsonResponse('Creation options', CreationOptionsSchema), ...problemResponses('unauthorized', ...BODY_ERRORS, 'reauthentication_required', 'passkey_limit_reached', 'not_found', 'rate_limited') }
    }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    return await whenOn(passkeyRegistration).options(callerOf(request.user), request.account, request.body.reauthToken)
  })

  app.post('', {
    config: verifyLimit,
    schema: {
      operationId: 'addPasskey',
      summary: 'Store the passkey the browser created',
      description: 'Post `{ credential: credential.toJSON(), name? }`. The server finds the options by the challenge in the credential\'s clientDataJSON; it must be this user\'s, unanswered and less than 5 minutes old, and the origin and RP ID this server\'s (400 `invalid_passkey_registration` otherwise). 409 `passkey_limit_reached` past 10 passkeys, 409 `conflict` for a credential already registered. The account\'s email (else phone) is told.',
      tags,
      security,
      body: Type.Object({ credential: RegistrationCredentialSchema, name: Type.Optional(PasskeyNameSchema) }, {
        additionalProperties: false, examples: [{ credential: REGISTRATION_CREDENTIAL_EXAMPLE, name: 'MacBook Touch ID' }]
      }),
      response: { 201: jsonResponse('The stored passkey', PasskeySchema), ...problemResponses('unauthorized', ...BODY_ERRORS, 'invalid_passkey_registration', 'passkey_limit_reached', 'conflict', 'not_found', 'rate_limited') }
    }
  }, async (request, reply) => {
    const { credential, name } = request.body
    const passkey = await whenOn(passkeyRegistration).register(
      request.account, credential as unknown as RegistrationResponseJSON, name?.trim(), request.log.child({ component: 'delivery' })
    )
    return reply.code(201).send(passkeyView(passkey))
  })

  app.get('', {
    config: defaultLimit,
    schema: {
      operationId: 'listPasskeys',
      summary: 'The user\'s passkeys, oldest first',
      tags,
      security,
      response: { 200: jsonResponse('The passkeys', PasskeyListSchema), ...problemResponses('unauthorized', 'not_found', 'rate_limited') }
    }
  }, async (request) => ({ passkeys: (await whenOn(passkeyRegistration).list(request.account.id)).map(passkeyView) }))

  app.patch('/:id', {
    config: defaultLimit,
    schema: {
      operationId: 'renamePasskey',
      summary: 'Rename a passkey',
      tags,
      security,
      params: IdParamsSchema,
      body: Type.Object({ name: PasskeyNameSchema }, { additionalProperties: false, examples: [{ name: 'Work laptop' }] }),
      response: { 200: jsonResponse('The renamed passkey', PasskeySchema), ...problemResponses('unauthorized', ...BODY_ERRORS, 'uri_too_long', 'not_found', 'rate_limited') }
    }
  }, async (request) => {
    const { account, params, body } = request
    return passkeyView(await whenOn(passkeyRegistration).rename(account.id, params.id, body.name.trim()))
  })

  app.delete('/:id', {
    config: { ...verifyLimit, optionalBody: true },
    schema: {
      operationId: 'removePasskey',
      summary: 'Remove a passkey',
      description: `${PROOF} The passkey stops signing in at once; the authenticator may still offer it until the user deletes it there too.`,
      tags,
      security,
      params: IdParamsSchema,
      body: ProofBodySchema,
      response: { 204: Type.Null({ description: 'removed' }), ...problemResponses('unauthorized', ...BODY_ERRORS, 'uri_too_long', 'reauthentication_required', 'not_found', 'rate_limited') }
    }
  }, async (request, reply) => {
    await whenOn(passkeyRegistration).remove(callerOf(request.user), request.params.id, request.body.reauthToken)
    return reply.code(204).send(null)
  })
}

export default mePasskeyRoutes
