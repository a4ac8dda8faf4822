import type { DeliveryLogger } from '../delivery/delivery.ts'
import type { VerifiedChallenge } from '../otp/otp-engine.ts'
import { isStoreUnavailable } from '../stores/store-errors.ts'

/**
 * Runs what follows a verified code. When a store is unreachable meanwhile (the request fails with 503), or
 * `notTheCodesFault` says so of the error, the challenge is put back as it was, so the same code still works once
 * the store answers or the caller can go on; other errors (a decoy, a disabled user) leave it used up.
 */
export async function reinstateOnFailure<T> (
  verified: VerifiedChallenge,
  logger: DeliveryLogger,
  work: () => Promise<T>,
  notTheCodesFault: (error: unknown) => boolean = () => false
): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if ((error instanceof Error && isStoreUnavailable(error)) || notTheCodesFault(error)) {
      await verified.reinstate().catch((reinstateError: unknown) => logger.warn({ err: reinstateError }, 'could not reinstate the challenge'))
    }
    throw error
  }
}
