import t from 'tap'
import { MongoPasskeyRepository } from '../../src/passkeys/mongo-passkey-repository.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { passkeyRepositoryContract } from './passkey-repository.ts'

const connection = await connectTestMongo(t)

passkeyRepositoryContract(t, async () => {
  const repository = new MongoPasskeyRepository(connection)
  await repository.init()
  return repository
})
