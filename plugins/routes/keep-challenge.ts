import type { FastifyBaseLogger } from 'fastify'
import type { VerifiedChallenge } from '../../src/otp/otp-engine.ts'
import { isStoreUnavailable } from '../problem.ts'

/**
 * Runs what follows a successful verify (users, sessions). When a store is unreachable meanwhile the request
 * fails with 503, and the challenge is put back as it was, so the user's code still works once the store is.
 * Other errors (a decoy, a disabled user) leave the challenge used up.
 */
export async function keepChallengeOnOutage<T> (verified: VerifiedChallenge, log: FastifyBaseLogger, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof Error && isStoreUnavailable(error)) {
      await verified.reinstate().catch((reinstateError: unknown) => log.warn({ err: reinstateError }, 'could not reinstate the challenge'))
    }
    throw error
  }
}
