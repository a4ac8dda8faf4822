import { Type } from 'typebox'
import type { Passkey } from '../../src/passkeys/passkey-repository.ts'

const base64url = (description: string, maxLength = 4096) => Type.String({ pattern: '^[A-Za-z0-9_-]+$', minLength: 1, maxLength, description })

const PASSKEY_EXAMPLE = { id: 'Qm9vdHN0cmFwcGVk', name: 'MacBook Touch ID', createdAt: '2026-11-23T10:00:00.000Z', lastUsedAt: '2026-11-24T08:12:00.000Z' }

/** A stored passkey as the API shows it: never its public key or credential id bytes. */
export const PasskeySchema = Type.Object({
  id: Type.String({ description: 'names the passkey in PATCH and DELETE /v1/me/passkeys/{id}' }),
  name: Type.String({ description: 'the user\'s name for it; a default naming the day it was added' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'its last sign-in; null before the first' })
}, { $id: 'Passkey', examples: [PASSKEY_EXAMPLE] })

export const PasskeyListSchema = Type.Object({ passkeys: Type.Array(PasskeySchema) }, {
  examples: [{ passkeys: [PASSKEY_EXAMPLE] }]
})

export const PasskeyNameSchema = Type.String({ minLength: 1, maxLength: 64, pattern: '\\S', description: 'a name for the passkey, e.g. the device it lives on', examples: ['MacBook Touch ID'] })

export const passkeyView = (passkey: Passkey) => ({
  id: passkey.id,
  name: passkey.name,
  createdAt: passkey.createdAt.toISOString(),
  lastUsedAt: passkey.lastUsedAt?.toISOString() ?? null
})

// what PublicKeyCredential.toJSON() gives; browsers add members (publicKey, authenticatorData…), which are kept
type ResponseMembers = Record<string, ReturnType<typeof Type.Optional> | ReturnType<typeof base64url>>
const credentialOf = (response: ResponseMembers, description: string) => Type.Object({
  id: base64url('the credential id', 1400),
  rawId: base64url('the credential id again', 1400),
  type: Type.Literal('public-key'),
  response: Type.Object({ clientDataJSON: base64url('carries the challenge the server finds the ceremony by', 8192), ...response }),
  authenticatorAttachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
  clientExtensionResults: Type.Object({}, { additionalProperties: true })
}, { description })

export const RegistrationCredentialSchema = credentialOf({
  attestationObject: base64url('the attestation ("none")', 16_384),
  transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 }))
}, 'PublicKeyCredential.toJSON() of navigator.credentials.create()')

export const AuthenticationCredentialSchema = credentialOf({
  authenticatorData: base64url('the authenticator data', 8192),
  signature: base64url('the assertion signature', 1024),
  userHandle: Type.Optional(base64url('the user handle of a discoverable credential', 128))
}, 'PublicKeyCredential.toJSON() of navigator.credentials.get()')

const CHALLENGE = 'dG8tYmUtc2lnbmVkLWJ5LXRoZS1hdXRoZW50aWNhdG9y'
const CREDENTIAL_ID = 'SsYeTE7HJUe4YZbZqDXWqfAqs1W3Y3BfA1Pm0J1UjWc'
export const REGISTRATION_CREDENTIAL_EXAMPLE = {
  id: CREDENTIAL_ID,
  rawId: CREDENTIAL_ID,
  type: 'public-key',
  response: {
    clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiZEc4dFltVXRjMmxuYm1Wa0xXSjVMWFJvWlMxaGRYUm9aVzUwYVdOaGRHOXkiLCJvcmlnaW4iOiJodHRwczovL2FwcC5leGFtcGxlLm9yZyJ9',
    attestationObject: 'o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjF',
    transports: ['internal', 'hybrid']
  },
  authenticatorAttachment: 'platform',
  clientExtensionResults: {}
}
export const AUTHENTICATION_CREDENTIAL_EXAMPLE = {
  id: CREDENTIAL_ID,
  rawId: CREDENTIAL_ID,
  type: 'public-key',
  response: {
    clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiZEc4dFltVXRjMmxuYm1Wa0xXSjVMWFJvWlMxaGRYUm9aVzUwYVdOaGRHOXkiLCJvcmlnaW4iOiJodHRwczovL2FwcC5leGFtcGxlLm9yZyJ9',
    authenticatorData: 'SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ',
    signature: 'MEUCIQDl6g2u4r8Yk2mV9sR2dQ8z0fN3C1h2pQ7bY5tWc8xJ0AIgP3kZ9rF2mX1nQ6yT4vB8cD0eH5jL7uW3sA9iK2oE1gM',
    userHandle: 'NjY1ZjFjMmI5ZDNlNGEwMDEyMzQ1Njc4'
  },
  authenticatorAttachment: 'platform',
  clientExtensionResults: {}
}

const descriptor = Type.Object({ id: Type.String(), type: Type.Literal('public-key'), transports: Type.Optional(Type.Array(Type.String())) })

/** PublicKeyCredentialCreationOptionsJSON: PublicKeyCredential.parseCreationOptionsFromJSON() takes it as it is. */
export const CreationOptionsSchema = Type.Object({
  rp: Type.Object({ id: Type.Optional(Type.String()), name: Type.String() }),
  user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }),
  challenge: Type.String(),
  pubKeyCredParams: Type.Array(Type.Object({ alg: Type.Integer(), type: Type.Literal('public-key') })),
  timeout: Type.Optional(Type.Integer()),
  excludeCredentials: Type.Optional(Type.Array(descriptor)),
  authenticatorSelection: Type.Optional(Type.Object({
    residentKey: Type.Optional(Type.String()),
    userVerification: Type.Optional(Type.String()),
    requireResidentKey: Type.Optional(Type.Boolean())
  }, { additionalProperties: true })),
  attestation: Type.Optional(Type.String()),
  hints: Type.Optional(Type.Array(Type.String())),
  extensions: Type.Optional(Type.Object({}, { additionalProperties: true }))
}, {
  additionalProperties: true,
  description: 'WebAuthn Level 3 PublicKeyCredentialCreationOptionsJSON',
  examples: [{
    rp: { name: 'otp-gate', id: 'example.org' },
    user: { id: 'NjY1ZjFjMmI5ZDNlNGEwMDEyMzQ1Njc4', name: 'jane@example.org', displayName: '' },
    challenge: CHALLENGE,
    pubKeyCredParams: [{ alg: -8, type: 'public-key' }, { alg: -7, type: 'public-key' }, { alg: -257, type: 'public-key' }],
    timeout: 300000,
    attestation: 'none',
    excludeCredentials: [],
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred', requireResidentKey: true },
    extensions: { credProps: true },
    hints: []
  }]
})

/** PublicKeyCredentialRequestOptionsJSON: PublicKeyCredential.parseRequestOptionsFromJSON() takes it as it is. */
export const RequestOptionsSchema = Type.Object({
  rpId: Type.Optional(Type.String()),
  challenge: Type.String(),
  timeout: Type.Optional(Type.Integer()),
  userVerification: Type.Optional(Type.String()),
  allowCredentials: Type.Optional(Type.Array(descriptor, { description: 'left out for a sign-in: any discoverable passkey of this site' })),
  extensions: Type.Optional(Type.Object({}, { additionalProperties: true }))
}, {
  additionalProperties: true,
  description: 'WebAuthn Level 3 PublicKeyCredentialRequestOptionsJSON',
  examples: [{ rpId: 'example.org', challenge: CHALLENGE, timeout: 300000, userVerification: 'preferred' }]
})
