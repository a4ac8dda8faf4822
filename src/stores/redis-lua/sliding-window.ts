import { readFileSync } from 'node:fs'

/** Lua functions (now_ms, window_count, window_wait) that the OTP and TOTP Redis stores prepend to their scripts. */
export const SLIDING_WINDOW_LUA = readFileSync(new URL('./sliding-window.lua', import.meta.url), 'utf8')
