import { Schema, type Connection, type Model } from 'mongoose'
import { claimById } from './mongo-claims.ts'

/** One change to existing data or indexes, run once per database. `id` never changes once released. */
export interface Migration {
  id: string
  description: string
  up (connection: Connection): Promise<void>
}

const INDEX_NOT_FOUND = 27
const NAMESPACE_NOT_FOUND = 26

async function dropIndexes (connection: Connection, collection: string, names: string[]): Promise<void> {
  for (const name of names) {
    await connection.db!.collection(collection).dropIndex(name).catch((error: unknown) => {
      const code = (error as { code?: unknown }).code
      if (code !== INDEX_NOT_FOUND && code !== NAMESPACE_NOT_FOUND) throw error
    })
  }
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: '2026-11-sessions-hash-indexes',
    description: 'drop the session lookups by token hash that refresh tokens naming their session replaced',
    up: (connection) => dropIndexes(connection, 'sessions', ['tokenHash_1', 'previousHashes.hash_1'])
  }
]

interface MigrationRecord { _id: string, description: string, startedAt: Date, finishedAt: Date | null }

const migrationSchema = new Schema<MigrationRecord>({
  _id: String,
  description: String,
  startedAt: Date,
  finishedAt: { type: Date, default: null }
}, { collection: 'migrations', versionKey: false })

const modelOf = (connection: Connection): Model<MigrationRecord> =>
  connection.models.Migration as Model<MigrationRecord> | undefined ?? connection.model<MigrationRecord>('Migration', migrationSchema)

/**
 * Runs the migrations this database has not run, in order, and records each in `migrations`; answers the ids it
 * ran. Instances starting together claim each one by inserting its id (claimById), so it runs once; a failed
 * one gives its claim back and stops the start, so the next start tries it again.
 */
export async function runMigrations (
  connection: Connection, migrations: readonly Migration[] = MIGRATIONS
): Promise<string[]> {
  const records = modelOf(connection)
  const ran: string[] = []
  for (const migration of migrations) {
    if (!await claimById(records, {
      _id: migration.id, description: migration.description, startedAt: new Date(), finishedAt: null
    })) continue
    try {
      await migration.up(connection)
    } catch (error) {
      await records.deleteOne({ _id: migration.id })
      throw error
    }
    await records.updateOne({ _id: migration.id }, { $set: { finishedAt: new Date() } })
    ran.push(migration.id)
  }
  return ran
}
