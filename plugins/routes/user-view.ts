import type { User } from '../../src/users/user-repository.ts'

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
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString()
  }
}
