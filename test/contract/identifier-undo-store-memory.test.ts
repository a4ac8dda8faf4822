import t from 'tap'
import { MemoryIdentifierUndoStore } from '../../src/users/memory-identifier-undo-store.ts'
import { identifierUndoStoreContract } from './identifier-undo-store.ts'

// the injected clock makes time pass without sleeping
identifierUndoStoreContract(t, async () => {
  let clock = Date.parse('2026-11-23T10:00:00.000Z')
  const store = new MemoryIdentifierUndoStore({ now: () => clock })
  return { store, elapse: async (ms) => { clock += ms }, close: async () => {} }
})
