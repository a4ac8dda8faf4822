import t from 'tap'
import { MemoryPasskeyChallengeStore } from '../../src/passkeys/memory-passkey-challenge-store.ts'
import { passkeyChallengeStoreContract } from './passkey-challenge-store.ts'

// the injected clock makes time pass without sleeping
passkeyChallengeStoreContract(t, async () => {
  let clock = Date.parse('2026-11-23T10:00:00.000Z')
  const store = new MemoryPasskeyChallengeStore({ now: () => clock })
  return { store, elapse: async (ms) => { clock += ms }, close: () => store.close() }
})
