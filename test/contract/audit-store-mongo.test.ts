import t from 'tap'
import { MongoAuditStore } from '../../src/audit/mongo-audit-store.ts'
import { connectTestMongo } from '../helpers/mongo.ts'
import { expireAfterSeconds } from '../helpers/ferretdb-shims.ts'
import { auditStoreContract } from './audit-store.ts'

const DAY_MS = 86_400_000

// each test gets a fresh collection: the contract's events must not meet another test's
auditStoreContract(t, async () => {
  const connection = await connectTestMongo(t)
  const store = new MongoAuditStore(connection, { retentionMs: 90 * DAY_MS })
  await store.init()
  return store
})

t.test('old events leave by a TTL index on `at`, whose expiry follows AUDIT_RETENTION_DAYS', async (t) => {
  const connection = await connectTestMongo(t)
  const collection = connection.db!.collection('audit_events')
  await new MongoAuditStore(connection, { retentionMs: 90 * DAY_MS }).init()
  t.equal(await expireAfterSeconds(collection, 'at_ttl'), 90 * 86_400)
  await new MongoAuditStore(connection, { retentionMs: 30 * DAY_MS }).init()
  t.equal(await expireAfterSeconds(collection, 'at_ttl'), 30 * 86_400, 'a changed retention changes the index')
})
