import t from 'tap'
import { MemoryUserRepository } from '../../src/users/memory-user-repository.ts'
import { userRepositoryContract } from './user-repository.ts'

userRepositoryContract(t, async () => {
  const users = new MemoryUserRepository()
  await users.init()
  return users
})
