import { randomBytes as opensslRandomBytes, randomFillSync } from 'node:crypto'

// The one source of random bytes in src/ (ids, token secrets, nonces, IVs, keys; ESLint holds it), taken from a
// pool that OpenSSL refills 4 KiB at a time. Each `crypto.randomBytes` call costs a trip into OpenSSL: 1.5 µs in a
// loop, 5–6 µs measured with perf under the bench's load, and a sign-in makes four, a code request five. Node keeps
// the same kind of pool for `randomUUID`. The bytes are OpenSSL's CSPRNG output either way; holding the next few KiB
// in memory exposes nothing the generator's own state in the same process does not. Bytes handed out are copied
// out and wiped from the pool, so no two callers ever get the same bytes and used ones do not linger here.
const POOL_BYTES = 4096
// a large request would drain the pool for one caller: it goes to OpenSSL directly
const LARGEST_POOLED = 64

const pool = Buffer.allocUnsafeSlow(POOL_BYTES)
let offset = POOL_BYTES

/** `size` cryptographically secure random bytes, as `crypto.randomBytes(size)`, a new Buffer of the caller's. */
export function randomBytes (size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`randomBytes: size must be a whole number, not ${size}`)
  if (size > LARGEST_POOLED) return opensslRandomBytes(size)
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool)
    offset = 0
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size))
  pool.fill(0, offset, offset + size)
  offset += size
  return bytes
}
