import { createSecretKey, type KeyObject } from 'node:crypto'

/**
 * A configured secret (a pepper, a key derived as text) as an HMAC key, made once: given a string, every
 * `createHmac` encodes it again, a few µs of each HMAC on a busy server. The same UTF-8 bytes, so the same digests
 * as `createHmac(algorithm, text)`: hashes and tokens made before stay valid.
 */
export const hmacKey = (text: string): KeyObject => createSecretKey(Buffer.from(text, 'utf8'))
