import t from 'tap'
import { MongoSessionRepository } from '../../src/sessions/mongo-session-repository.ts'
import { connectTestMongo, needsMongoDb } from '../helpers/mongo.ts'
import { sessionRepositoryContract } from './session-repository.ts'

const connection = await connectTestMongo(t)

sessionRepositoryContract(t, async () => {
  const sessions = new MongoSessionRepository(connection)
  await sessions.init()
  return sessions
}, { races: await needsMongoDb('atomicUpdates') })
