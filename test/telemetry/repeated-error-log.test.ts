import t from 'tap'
import { RepeatedErrorLog } from '../../src/telemetry/repeated-error-log.ts'

t.test('RepeatedErrorLog: the same error from the same source once per interval, others as they come', async (t) => {
  let now = 0
  const lines: Array<[Record<string, unknown>, string]> = []
  const logger = {
    warn: (fields: object, message: string) => { lines.push([fields as Record<string, unknown>, message]) }
  }
  const log = new RepeatedErrorLog(logger, { intervalMs: 10_000, now: () => now })
  const readonly = Object.assign(new Error('READONLY You can\'t write against a read only replica.'), { name: 'ReplyError', command: { name: 'evalsha', args: ['+12015550123'] } })
  for (let n = 0; n < 100; n++) {
    log.warn(readonly, 'delivery worker error')
    now += 100
  }
  log.warn(new Error('connect ECONNREFUSED 127.0.0.1:6379'), 'delivery worker error')
  log.warn(readonly, 'delivery queue error')
  t.same(lines.map(([fields, message]) => [message, fields.suppressed]), [
    ['delivery worker error', undefined],
    ['delivery worker error', undefined],
    ['delivery queue error', undefined]
  ], 'the first of each, in 10 s: another error, another source')
  now += 10
  log.warn(readonly, 'delivery worker error')
  t.same(lines.at(-1)?.[0].suppressed, 99, 'the next line after the interval counts the 99 left out')
  t.equal(lines.at(-1)?.[0].err, readonly, 'with the error itself (the logger\'s serializer keeps only its type, command and code)')
  log.warn(readonly, 'delivery worker error', { err: 'message only' })
  t.equal(lines.length, 4)
})

t.test('RepeatedErrorLog remembers 100 kinds of error at most, forgetting the oldest', async (t) => {
  const lines: string[] = []
  const log = new RepeatedErrorLog({ warn: (_fields, message) => { lines.push(message) } }, { now: () => 0 })
  for (let n = 0; n <= 100; n++) log.warn(new Error(`error ${n}`), `source ${n}`)
  log.warn(new Error('error 1'), 'source 1')
  t.equal(lines.length, 101, 'the 100 newest are still remembered')
  log.warn(new Error('error 0'), 'source 0')
  t.equal(lines.length, 102, 'the oldest was forgotten: logged again')
})
