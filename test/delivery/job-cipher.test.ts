import t from 'tap'
import { randomBytes } from 'node:crypto'
import { loadConfig } from '../../src/config.ts'
import { createJobCipher, JobCipher, keyFromPepper, sealingContext } from '../../src/delivery/job-cipher.ts'

const job = { challengeId: 'ab12.AAAAAAAAAAAAAAAAAAAAAA', channel: 'sms', expiresAt: 1_800_000_000_000 }
const content = { code: '123456', to: '+12015550123' }

t.test('opens what it sealed, and the sealed text holds neither the code nor the destination', async (t) => {
  const cipher = new JobCipher([randomBytes(32)])
  const sealed = cipher.seal(content, sealingContext(job))
  t.same(cipher.open(sealed, sealingContext(job)), content)
  t.notOk(sealed.includes('123456') || sealed.includes('2015550123'))
  t.not(cipher.seal(content, sealingContext(job)), sealed, 'a fresh IV each time')
})

t.test('a payload bound to one job does not open on another, nor under another key', async (t) => {
  const cipher = new JobCipher([randomBytes(32)])
  const sealed = cipher.seal(content, sealingContext(job))
  t.throws(() => cipher.open(sealed, sealingContext({ ...job, expiresAt: job.expiresAt + 1 })))
  t.throws(() => new JobCipher([randomBytes(32)]).open(sealed, sealingContext(job)), /key this process does not have/)
})

t.test('keys: DELIVERY_JOB_KEY, else HKDF of OTP_PEPPER, and jobs sealed under the previous pepper still open', async (t) => {
  const pepper = 'p'.repeat(32)
  const previous = 'q'.repeat(32)
  const sealedBefore = new JobCipher([keyFromPepper(previous)]).seal(content, sealingContext(job))
  const rotated = createJobCipher(loadConfig({ OTP_PEPPER: pepper, OTP_PEPPER_PREVIOUS: previous }))
  t.same(rotated.open(sealedBefore, sealingContext(job)), content)
  t.not(keyFromPepper(pepper).toString('hex'), Buffer.from(pepper).toString('hex').slice(0, 64), 'derived, not the pepper itself')
  const key = randomBytes(32)
  const explicit = createJobCipher(loadConfig({ OTP_PEPPER: pepper, DELIVERY_JOB_KEY: key.toString('base64') }))
  t.same(new JobCipher([key]).open(explicit.seal(content, sealingContext(job)), sealingContext(job)), content)
})
