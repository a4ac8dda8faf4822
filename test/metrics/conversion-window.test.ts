import t from 'tap'
import { ConversionWindow, sumConversionCounts } from '../../src/metrics/conversion-window.ts'

t.test('counts codes sent and verified per channel and country over a sliding window', async (t) => {
  let clock = 1_000_000_000
  const window = new ConversionWindow(3600, () => clock)
  window.record('sms', 'FR', 'sent')
  window.record('sms', 'FR', 'sent')
  window.record('email', 'email', 'sent')
  clock += 30 * 60_000
  window.record('sms', 'FR', 'verified')
  t.same(window.counts(), [{ channel: 'sms', country: 'FR', sent: 2, verified: 1 }, { channel: 'email', country: 'email', sent: 1, verified: 0 }])
  clock += 31 * 60_000
  t.same(window.counts(), [{ channel: 'sms', country: 'FR', sent: 0, verified: 1 }], 'the sends left the window, the later verify has not')
  clock += 60 * 60_000
  t.same(window.counts(), [], 'everything left the window')
})

t.test('the counts of several workers add up', async (t) => {
  t.same(sumConversionCounts([
    [{ channel: 'sms', country: 'FR', sent: 2, verified: 1 }],
    [{ channel: 'sms', country: 'FR', sent: 3, verified: 3 }, { channel: 'email', country: 'email', sent: 1, verified: 0 }]
  ]), [{ channel: 'sms', country: 'FR', sent: 5, verified: 4 }, { channel: 'email', country: 'email', sent: 1, verified: 0 }])
})
