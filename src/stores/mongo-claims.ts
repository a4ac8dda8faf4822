import type { Model } from 'mongoose'

/** MongoDB's duplicate-key error: a unique index, or `_id`, refused a write. */
export const isDuplicateKey = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === 11000

/**
 * Inserts `document`, whose `_id` names what is claimed: true when this call took it, false when someone
 * already holds it. `_id` uniqueness makes the insert a compare-and-set with no filter to match.
 */
export async function claimById<T> (model: Model<T>, document: T): Promise<boolean> {
  try {
    await model.create(document)
    return true
  } catch (error) {
    if (isDuplicateKey(error)) return false
    throw error
  }
}
