import { Type } from 'typebox'
import type { User } from '../../src/users/user-repository.ts'
import { UserSchema, userView, USER_EXAMPLE } from './user.ts'

export const ADMIN_USER_EXAMPLE = { ...USER_EXAMPLE, mfaEnrolled: false }

/** A user as administrators see it: the user's own view and whether an authenticator app is bound. */
export const AdminUserSchema = Type.Object({
  ...UserSchema.properties,
  mfaEnrolled: Type.Boolean({ description: 'an authenticator app is (being) bound' })
}, { examples: [ADMIN_USER_EXAMPLE] })

export const adminUserView = (user: User) => ({ ...userView(user), mfaEnrolled: user.mfaEnrolled })
