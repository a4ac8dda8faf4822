import t from 'tap'
import { MIGRATIONS, runMigrations, type Migration } from '../src/migrations.ts'
import { connectTestMongo } from './helpers/mongo.ts'

t.test('a migration runs once per database and is recorded; the next start runs nothing', async (t) => {
  const connection = await connectTestMongo(t)
  const sessions = connection.db!.collection('sessions')
  await sessions.insertOne({ tokenHash: 'x' })
  await sessions.createIndex({ tokenHash: 1 }, { name: 'tokenHash_1', unique: true })
  await sessions.createIndex({ 'previousHashes.hash': 1 }, { name: 'previousHashes.hash_1' })
  t.same(await runMigrations(connection), MIGRATIONS.map((migration) => migration.id), 'every migration on a new database')
  const names = (await sessions.indexes()).map((index) => index.name)
  t.notOk(names.includes('tokenHash_1') || names.includes('previousHashes.hash_1'), 'the obsolete session indexes are gone')
  const records = await connection.db!.collection('migrations').find().toArray()
  t.match(records, MIGRATIONS.map((migration) => ({ _id: migration.id, finishedAt: Date })), 'each recorded as finished')
  t.same(await runMigrations(connection), [], 'a second start runs nothing')
})

t.test('instances starting together run a migration once; a failed one runs again at the next start', async (t) => {
  const connection = await connectTestMongo(t)
  let runs = 0
  let fail = true
  const counted: Migration = { id: 'test-counted', description: 'counts its runs', up: async () => { runs++ } }
  const flaky: Migration = {
    id: 'test-flaky',
    description: 'fails once',
    up: async () => { if (fail) throw new Error('not now') }
  }
  await Promise.all(Array.from({ length: 5 }, () => runMigrations(connection, [counted])))
  t.equal(runs, 1, 'five parallel starts, one run')
  await t.rejects(runMigrations(connection, [flaky]), /not now/, 'a failure stops the start')
  fail = false
  t.same(await runMigrations(connection, [flaky]), ['test-flaky'], 'and the next start runs it again')
})
