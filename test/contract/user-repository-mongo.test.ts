import t from 'tap'
import { MongoUserRepository } from '../../src/users/mongo-user-repository.ts'
import { FerretDbUserRepository } from '../../src/users/ferretdb-user-repository.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { userRepositoryContract } from './user-repository.ts'

// both modes, each on a database of its own: their documents and indexes differ
t.test('MONGODB_COMPAT=mongodb', async (t) => {
  const connection = await connectTestMongo(t)
  userRepositoryContract(t, async () => {
    const users = new MongoUserRepository(connection)
    await users.init()
    return users
  })
})

t.test('MONGODB_COMPAT=ferretdb', async (t) => {
  const connection = await connectTestMongo(t)
  userRepositoryContract(t, async () => {
    const users = new FerretDbUserRepository(connection)
    await users.init()
    return users
  })
})
