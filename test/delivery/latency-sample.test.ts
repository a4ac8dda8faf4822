import t from 'tap'
import { LatencySample } from '../../src/delivery/latency-sample.ts'

t.test('draws one of the latencies recorded, the newest 64 of them; a prior before any', async (t) => {
  const sample = new LatencySample()
  const prior = new Set(Array.from({ length: 50 }, (_, i) => sample.draw(() => i / 50)))
  t.ok([...prior].every((ms) => ms >= 80 && ms <= 240), 'before a provider answered: a usual provider time, never 0')
  for (let ms = 1; ms <= 100; ms++) sample.record(ms)
  const drawn = Array.from({ length: 64 }, (_, i) => sample.draw(() => i / 64)).sort((a, b) => a - b)
  t.same(drawn, Array.from({ length: 64 }, (_, i) => 37 + i), 'only the newest 64 are drawn from, each as likely')
})
