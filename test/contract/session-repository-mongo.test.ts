import t from 'tap'
import { MongoSessionRepository } from '../../src/sessions/mongo-session-repository.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { COMPATS, compatCapabilities } from '../helpers/mongo-compat.ts'
import { sessionRepositoryContract } from './session-repository.ts'

const connection = await connectTestMongo(t)

// both modes on whatever server MONGODB_URL names: the atomic compare-and-swap, and the swap under a lock
for (const compat of COMPATS) {
  const limits = await compatCapabilities(connection, compat)
  t.test(`MONGODB_COMPAT=${compat}`, async (t) => {
    sessionRepositoryContract(t, async () => {
      const sessions = new MongoSessionRepository(connection, { compat })
      await sessions.init()
      return sessions
    }, limits)
  })
}
