import { Type } from 'typebox'
import { RECOVERY_CODE_PATTERN } from '../../src/totp/recovery-codes.ts'

const RECOVERY_CODES_EXAMPLE = [
  'k7vq-2mxa-p4ze-3rtd', 'b2nw-q6ch-x5ly-7fgs', 'm3tz-a7kp-e2vu-6dhn', 'r5yc-w4gb-j7qa-2xmt', 'h6ds-n3fe-t5kw-4pzq',
  'z2pl-c7rv-g3my-5nxb', 'e4qj-u6ta-s2hd-7wkc', 'w7xf-k3nz-b6pq-2jry', 'p5gm-d2lw-v4ce-6hta', 't3au-f7js-y5rn-4bqd'
]

export const TotpCodeSchema = Type.String({ pattern: '^[0-9]{6}$', description: 'the 6 digits the authenticator app shows now', examples: ['492039'] })

/** A TOTP code or a recovery code: both prove the second factor. */
export const SecondFactorCodeSchema = Type.String({
  pattern: `^([0-9]{6}|${RECOVERY_CODE_PATTERN.slice(1, -1)})$`,
  description: '6 digits from the authenticator app, or one of the recovery codes (each works once)',
  examples: ['492039', RECOVERY_CODES_EXAMPLE[0]]
})

export const RecoveryCodesSchema = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { minItems: 10, maxItems: 10, description: 'each works once; shown only now, so store them somewhere safe' })
}, {
  examples: [{ recoveryCodes: RECOVERY_CODES_EXAMPLE }]
})

/** A step-up proof (POST /v1/me/reauth/verify): a code just sent to the account's own email or phone. */
export const ReauthTokenSchema = Type.String({ minLength: 1, maxLength: 100, description: 'proof from POST /v1/me/reauth/verify' })
