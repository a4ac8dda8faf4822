import { readFileSync } from 'node:fs'

/** The Lua function backoff_ms: the formula of src/throttle/backoff.ts, for the scripts that wait by it. */
export const BACKOFF_LUA = readFileSync(new URL('./backoff.lua', import.meta.url), 'utf8')
