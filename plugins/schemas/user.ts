import type { User } from '../../src/users/user-repository.ts'
import { Type } from 'typebox'

const nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])
/** appMetadata and userMetadata: any JSON object, checked by src/users/metadata.ts (size, keys) */
export const MetadataSchema = (description: string) => Type.Record(Type.String(), Type.Unknown(), {
  description: `${description}; a JSON object of at most 2 KB, no key starting with $ or holding a dot`
})

const timestamp = (description: string) => Type.String({ format: 'date-time', description })

export const USER_EXAMPLE = {
  id: '665f1c2b9d3e4a0012345678',
  email: 'jane@example.org',
  phone: null,
  emailVerifiedAt: '2026-11-23T10:00:00.000Z',
  phoneVerifiedAt: null,
  name: 'Jane',
  locale: 'en',
  status: 'active',
  lastLoginAt: '2026-11-23T10:00:00.000Z',
  appMetadata: { role: 'editor' },
  userMetadata: { theme: 'dark' },
  createdAt: '2026-11-01T09:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z'
}

export const UserSchema = Type.Object({
  id: Type.String({ examples: ['665f1c2b9d3e4a0012345678'] }),
  email: nullable(Type.String({ examples: ['jane@example.org'] })),
  phone: nullable(Type.String({ description: 'E.164', examples: ['+12015550123'] })),
  emailVerifiedAt: nullable(timestamp('when a code sent to the email was verified')),
  phoneVerifiedAt: nullable(timestamp('when a code sent to the phone was verified')),
  name: nullable(Type.String()),
  locale: nullable(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  lastLoginAt: nullable(timestamp('last successful login')),
  appMetadata: MetadataSchema('written by administrators only; the `app_metadata` claim of access tokens from the next refresh on'),
  userMetadata: MetadataSchema('written by the user (PATCH /v1/me) and administrators; never in a token'),
  createdAt: timestamp('sign-up time'),
  updatedAt: timestamp('last change')
}, {
  $id: 'User',
  examples: [USER_EXAMPLE]
})

const iso = (date: Date | null) => date === null ? null : date.toISOString()

/** The public view of a user, matching UserSchema. */
export function userView (user: User) {
  return {
    id: user.id,
    email: user.email,
    phone: user.phone,
    emailVerifiedAt: iso(user.emailVerifiedAt),
    phoneVerifiedAt: iso(user.phoneVerifiedAt),
    name: user.name,
    locale: user.locale,
    status: user.status,
    lastLoginAt: iso(user.lastLoginAt),
    appMetadata: user.appMetadata,
    userMetadata: user.userMetadata,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString()
  }
}
