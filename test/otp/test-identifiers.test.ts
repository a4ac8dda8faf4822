import t from 'tap'
import { parseTestIdentifiers } from '../../src/otp/test-identifiers.ts'

t.test('globs match the whole destination, emails case-insensitively', async (t) => {
  const codeFor = parseTestIdentifiers(['*@loadtest.example=000000', '+1555*=123456', 'review@app.example=654321'], 6)
  t.equal(codeFor('anyone@loadtest.example'), '000000')
  t.equal(codeFor('Someone@LoadTest.Example'), '000000')
  t.equal(codeFor('+15550001111'), '123456')
  t.equal(codeFor('review@app.example'), '654321')
  t.equal(codeFor('anyone@loadtestXexample'), undefined, 'a dot is a dot')
  t.equal(codeFor('anyone@loadtest.example.org'), undefined, 'anchored at the end')
  t.equal(codeFor('+4415550001111'), undefined, 'anchored at the start')
  t.equal(codeFor('jane@example.org'), undefined)
})

t.test('the first matching entry wins; no entries match nothing', async (t) => {
  t.equal(parseTestIdentifiers(['a*@x.example=1111', '*@x.example=2222'], 4)('ann@x.example'), '1111')
  t.equal(parseTestIdentifiers([], 6)('ann@x.example'), undefined)
})

t.test('a bad entry is refused by name', async (t) => {
  t.throws(() => parseTestIdentifiers(['*@ok.example=000000', '+1555*=12345'], 6), /"\+1555\*=12345".*6 digits/)
  t.throws(() => parseTestIdentifiers(['*@x.example=12ab56'], 6), /"\*@x\.example=12ab56"/)
  t.throws(() => parseTestIdentifiers(['*@x.example'], 6), /"\*@x\.example" is not pattern=code/)
  t.throws(() => parseTestIdentifiers(['=123456'], 6), /not pattern=code/)
  t.equal(parseTestIdentifiers(['*@x.example=00000000'], 8)('a@x.example'), '00000000', 'length follows the config')
})
