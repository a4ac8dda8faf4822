import t from 'tap'
import { MemoryTotpAttemptStore } from '../../src/totp/memory-totp-attempt-store.ts'
import { totpAttemptStoreContract } from './totp-attempt-store.ts'

// the injected clock makes time pass without sleeping
totpAttemptStoreContract(t, async () => {
  let clock = Date.parse('2026-11-23T10:00:00.000Z')
  const store = new MemoryTotpAttemptStore({ now: () => clock })
  return { store, elapse: async (ms) => { clock += ms }, close: () => store.close() }
})
