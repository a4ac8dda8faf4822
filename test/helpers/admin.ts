import { newAdminKey } from '../../src/admin/admin-keys.ts'

/** An admin key named `ops` and the env that admits it: only its hash is configured. */
export function adminKeyEnv (name = 'ops') {
  const { key, entry } = newAdminKey(name)
  return { key, env: { ADMIN_API_KEYS: entry }, headers: { authorization: `Bearer ${key}` } }
}
