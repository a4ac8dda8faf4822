import t from 'tap'
import { MongoAuditStore } from '../../src/audit/mongo-audit-store.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { COMPATS } from '../helpers/mongo-compat.ts'
import { auditStoreContract } from './audit-store.ts'

const DAY_MS = 86_400_000

// each test gets a fresh collection: the contract's events must not meet another test's
for (const compat of COMPATS) {
  t.test(`MONGODB_COMPAT=${compat}`, async (t) => {
    auditStoreContract(t, async () => {
      const connection = await connectTestMongo(t)
      const store = new MongoAuditStore(connection, { retentionMs: 90 * DAY_MS, ttlIndex: compat === 'mongodb' })
      await store.init()
      return store
    })
  })
}
