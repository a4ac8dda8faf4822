// Prints a JWT_KEYS value holding one new Ed25519 key:  node src/sessions/generate-jwt-key.ts [kid]
// To rotate, put the new key first in the existing array; drop the old one once its tokens have expired.
import { generateSigningKey } from './tokens.ts'

console.log(JSON.stringify([generateSigningKey(process.argv[2] || undefined)]))
