import t from 'tap'
import { MemoryMfaChallengeStore } from '../../src/totp/memory-mfa-challenge-store.ts'
import { mfaChallengeStoreContract } from './mfa-challenge-store.ts'

// the injected clock makes time pass without sleeping
mfaChallengeStoreContract(t, async () => {
  let clock = Date.parse('2026-11-23T10:00:00.000Z')
  const store = new MemoryMfaChallengeStore({ now: () => clock })
  return { store, elapse: async (ms) => { clock += ms }, close: () => store.close() }
})
