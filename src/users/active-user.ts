import { AppError } from '../errors.ts'
import { unavailableIfStoreError } from '../stores/store-errors.ts'
import type { User, UserRepository } from './user-repository.ts'

/**
 * For requests with a bearer token: an access token outlives a disabled or deleted account, so they look the
 * user up and get 401 unless the account is still active.
 */
export const activeUserLookup = (users: UserRepository) => async (id: string): Promise<User> => {
  // a store that fails says nothing about the account: 503, never 401
  const user = await users.findById(id).catch((error: unknown) => { throw unavailableIfStoreError(error) })
  if (user === null || user.status !== 'active') throw new AppError('unauthorized', { detail: 'The account is not active.' })
  return user
}
