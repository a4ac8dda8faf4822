import t from 'tap'
import { MongoSessionRepository } from '../../src/sessions/mongo-session-repository.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { sessionRepositoryContract } from './session-repository.ts'

const connection = await connectTestMongo(t)

// the swap as init chose it for this server, and the filtered compare-and-swap MongoDB gets (under the lock,
// it holds on FerretDB too)
for (const atomicUpdates of [undefined, true]) {
  t.test(atomicUpdates ? 'swap: filtered compare-and-swap' : 'swap: as detected', async (t) => {
    sessionRepositoryContract(t, async () => {
      const sessions = new MongoSessionRepository(connection, { atomicUpdates })
      await sessions.init()
      return sessions
    })
  })
}
