import { AppError } from '../../src/errors.ts'
import type { User, UserRepository } from '../../src/users/user-repository.ts'

/**
 * For routes behind a bearer token: an access token outlives a disabled or deleted account,
 * so the routes look the user up and answer 401 unless the account is still active.
 */
export const activeUserLookup = (users: UserRepository) => async (id: string): Promise<User> => {
  const user = await users.findById(id)
  if (user === null || user.status !== 'active') throw new AppError('unauthorized', { detail: 'The account is not active.' })
  return user
}
