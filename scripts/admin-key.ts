// npm run admin-key -- <name>: a new admin API key, printed once, and the ADMIN_API_KEYS entry that admits it.
// Only the entry (the key's SHA-256) goes into the configuration; the key goes to whoever calls the admin API.
import { newAdminKey } from '../src/admin/admin-keys.ts'

const name = process.argv[2]
if (name === undefined || !/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) {
  console.error('usage: npm run admin-key -- <name>   (a-z, 0-9, _ and -, at most 32 characters, e.g. ops)')
  process.exit(1)
}
const { key, entry } = newAdminKey(name)
console.log(`Admin API key "${name}" (shown once, keep it in a secret store):\n\n  ${key}\n`)
console.log(`Add this entry to ADMIN_API_KEYS (comma-separated with the others):\n\n  ${entry}\n`)
