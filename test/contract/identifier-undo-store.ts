import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { IdentifierUndoStore, StoredUndo } from '../../src/users/identifier-undo-store.ts'

export interface IdentifierUndoStoreHarness {
  store: IdentifierUndoStore
  /** lets time pass: the memory store's clock moves, Redis really waits */
  elapse (ms: number): Promise<void>
  close (): Promise<void>
}

const key = () => randomBytes(32).toString('base64url')
const undo = (): StoredUndo => ({ sealed: randomBytes(64).toString('base64url'), expiresAt: 1_900_000_000_000 })

/** The IdentifierUndoStore contract (src/users/identifier-undo-store.ts), run against every adapter. */
export function identifierUndoStoreContract (t: Test, createHarness: () => Promise<IdentifierUndoStoreHarness>): void {
  let harness: IdentifierUndoStoreHarness
  t.beforeEach(async () => { harness = await createHarness() })
  t.afterEach(async () => { await harness.close() })

  t.test('take returns what put stored, once', async (t) => {
    const { store } = harness
    const stored = undo()
    const at = key()
    await store.put(at, stored, 60)
    t.same(await store.take(at), stored)
    t.equal(await store.take(at), null, 'taken once')
    t.equal(await store.take(key()), null, 'unknown')
  })

  t.test('put replaces an entry under the same key', async (t) => {
    const { store } = harness
    const at = key()
    const second = undo()
    await store.put(at, undo(), 60)
    await store.put(at, second, 60)
    t.same(await store.take(at), second)
  })

  t.test('of concurrent takes exactly one gets the entry', async (t) => {
    const { store } = harness
    const at = key()
    await store.put(at, undo(), 60)
    const takes = await Promise.all(Array.from({ length: 10 }, () => store.take(at)))
    t.equal(takes.filter((taken) => taken !== null).length, 1)
  })

  t.test('an entry is gone after its ttl', async (t) => {
    const { store } = harness
    const at = key()
    await store.put(at, undo(), 1)
    await harness.elapse(1100)
    t.equal(await store.take(at), null)
  })
}
