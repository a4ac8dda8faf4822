import t from 'tap'
import { MongoUserRepository } from '../../src/users/mongo-user-repository.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { userRepositoryContract } from './user-repository.ts'

const connection = await connectTestMongo(t)

userRepositoryContract(t, async () => {
  const users = new MongoUserRepository(connection)
  await users.init()
  return users
})
