import t from 'tap'
import { randomBytes } from '../src/random-bytes.ts'

t.test('each size asked is the size given, pooled or not', async (t) => {
  for (const size of [0, 1, 9, 12, 16, 32, 64, 65, 1000, 5000]) {
    const bytes = randomBytes(size)
    t.ok(Buffer.isBuffer(bytes), `${size}: a Buffer`)
    t.equal(bytes.length, size, `${size} bytes`)
  }
})

t.test('never the same bytes twice, across many refills of the pool', async (t) => {
  const seen = new Set<string>()
  const sizes = [16, 9, 12, 32]
  let drawn = 0
  for (let index = 0; index < 20_000; index++) {
    const bytes = randomBytes(sizes[index % sizes.length]!)
    drawn += bytes.length
    seen.add(bytes.toString('hex'))
  }
  t.ok(drawn > 50 * 4096, `${drawn} bytes drawn: the pool was refilled many times`)
  t.equal(seen.size, 20_000, 'every value distinct')
})

t.test('the bytes are random-looking: ones and zeros balanced, every byte value present', async (t) => {
  const chunks = Array.from({ length: 16_384 }, () => randomBytes(16))
  const all = Buffer.concat(chunks)
  let ones = 0
  const values = new Set<number>()
  for (const byte of all) {
    values.add(byte)
    for (let bit = byte; bit > 0; bit >>= 1) ones += bit & 1
  }
  const share = ones / (all.length * 8)
  // 2,097,152 bits: a fair source lands within 0.001 of a half (three standard deviations are 0.001)
  t.ok(Math.abs(share - 0.5) < 0.005, `share of ones ${share.toFixed(4)}`)
  t.equal(values.size, 256)
})

t.test('a returned Buffer is the caller\'s own: writing into it changes no later draw', async (t) => {
  const first = randomBytes(32)
  first.fill(0)
  const later = Array.from({ length: 200 }, () => randomBytes(32))
  t.notOk(later.some((bytes) => bytes.equals(Buffer.alloc(32))), 'no later draw is the zeroed one')
})

t.test('a size that is not a whole number is refused', async (t) => {
  for (const size of [-1, 1.5, Number.NaN]) t.throws(() => randomBytes(size), RangeError, String(size))
})
