import t from 'tap'
import { maskDestination } from '../../src/delivery/mask.ts'

t.test('emails keep the first character and the domain', async (t) => {
  t.equal(maskDestination('jane@example.org'), 'j***@example.org')
  t.equal(maskDestination('j@example.org'), 'j***@example.org')
})

t.test('phones keep the first two characters and the last four digits', async (t) => {
  t.equal(maskDestination('+12015550123'), '+1******0123')
  t.equal(maskDestination('+447700900123'), '+4*******0123')
  t.equal(maskDestination('+1234'), '***', 'too short to reveal anything')
})

t.test('the masked form never holds the full destination', async (t) => {
  for (const destination of ['jane.doe@example.org', '+33612345678', '+12015550123']) {
    const masked = maskDestination(destination)
    t.not(masked, destination)
    t.notOk(masked.includes(destination.split('@')[0] ?? destination))
  }
})
