import t from 'tap'
import { MongoTotpCredentialRepository } from '../../src/totp/mongo-totp-credential-repository.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { totpCredentialRepositoryContract } from './totp-credential-repository.ts'

const connection = await connectTestMongo(t)

totpCredentialRepositoryContract(t, async () => {
  const repository = new MongoTotpCredentialRepository(connection)
  await repository.init()
  return repository
})
