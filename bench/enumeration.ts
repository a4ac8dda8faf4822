import { performance } from 'node:perf_hooks'
import { JSON_HEADERS, newEmail } from './pools.ts'
import { median } from './stats.ts'

export interface EnumerationTiming {
  samples: number
  knownMedianMs: number
  unknownMedianMs: number
  /** known minus unknown: what an attacker timing POST /v1/auth/otp could learn per request */
  differenceMs: number
  statuses: number[]
}

const round = (ms: number) => Math.round(ms * 1000) / 1000

/**
 * Sequential POST /v1/auth/otp for identifiers with an account and without one, alternating which goes first,
 * so drift on a busy machine hits both alike. The answer is the same 202 either way; only the time may differ.
 */
export async function measureEnumeration (
  base: string, knownEmails: string[], samples: number
): Promise<EnumerationTiming> {
  if (knownEmails.length === 0) throw new Error('the enumeration probe needs known users (run verify first)')
  const known: number[] = []
  const unknown: number[] = []
  const statuses = new Set<number>()
  const time = async (email: string, into: number[]) => {
    const began = performance.now()
    const response = await fetch(`${base}/v1/auth/otp`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ email }) })
    await response.arrayBuffer()
    into.push(performance.now() - began)
    statuses.add(response.status)
  }
  for (let sample = 0; sample < samples; sample++) {
    const email = knownEmails[sample % knownEmails.length]!
    if (sample % 2 === 0) {
      await time(email, known)
      await time(newEmail(), unknown)
    } else {
      await time(newEmail(), unknown)
      await time(email, known)
    }
  }
  const knownMedianMs = median(known)
  const unknownMedianMs = median(unknown)
  return {
    samples,
    knownMedianMs: round(knownMedianMs),
    unknownMedianMs: round(unknownMedianMs),
    differenceMs: round(knownMedianMs - unknownMedianMs),
    statuses: [...statuses].sort()
  }
}
