import t from 'tap'
import { AppError } from '../../src/errors.ts'
import { normaliseEmail, normaliseIdentifier, normalisePhone, phoneCountry, phoneNumberType } from '../../src/users/identifiers.ts'

/** The refusal a route would turn into a 400 problem with one field error. */
function refusal (run: () => unknown): { field: string, message: string } {
  try {
    run()
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'validation_failed') throw error
    const errors = error.extensions.errors as Array<{ field: string, message: string }>
    if (errors.length !== 1) throw new Error(`expected one field error, got ${errors.length}`)
    return errors[0]!
  }
  throw new Error('expected a validation_failed error')
}

t.test('normaliseEmail accepts and normalises', async (t) => {
  const cases: Array<[string, string]> = [
    ['Alice@Example.COM', 'alice@example.com'],
    ['  bob@example.com \u00a0', 'bob@example.com'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['JOSÉ@Example.com', 'josé@example.com'],
    ['user@bücher.example', 'user@xn--bcher-kva.example'],
    ['a@b.co', 'a@b.co'],
    ['x'.repeat(64) + '@example.com', 'x'.repeat(64) + '@example.com']
  ]
  for (const [raw, expected] of cases) t.equal(normaliseEmail(raw), expected, JSON.stringify(raw))
})

t.test('normaliseEmail makes NFD and NFC spellings one address', async (t) => {
  const nfd = 'jose\u0301@example.com'
  const nfc = 'jos\u00e9@example.com'
  t.not(nfd, nfc)
  t.equal(normaliseEmail(nfd), nfc)
  t.equal(normaliseEmail(nfd), normaliseEmail(nfc))
  t.equal(normaliseEmail('JOSE\u0301@EXAMPLE.COM'), nfc)
})

t.test('normaliseEmail makes compatibility spellings one address (NFKC)', async (t) => {
  t.equal(normaliseEmail('\uff4a\uff41\uff4e\uff45\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org'), 'jane@example.org', 'fullwidth letters and @')
  t.equal(normaliseEmail('o\ufb03ce@example.org'), 'office@example.org', 'the ffi ligature')
  t.equal(normaliseEmail('\u210cello@example.org'), 'hello@example.org', 'a letterlike H')
})

t.test('normaliseEmail makes the Unicode and punycode forms of a domain one address (IDNA UTS 46)', async (t) => {
  const forms = ['user@bücher.example', 'user@BÜCHER.example', 'user@xn--bcher-kva.example', 'USER@XN--BCHER-KVA.EXAMPLE', 'user@bu\u0308cher.example']
  for (const form of forms) t.equal(normaliseEmail(form), 'user@xn--bcher-kva.example', form)
  t.equal(normaliseEmail('user@faß.de'), 'user@xn--fa-hia.de', 'nontransitional: ß is kept, not folded to ss')
  t.equal(normaliseEmail('user@中国.cn'), 'user@xn--fiqs8s.cn')
  t.equal(normaliseEmail('user@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org'), 'user@example.org', 'fullwidth domain')
})

t.test('normaliseEmail refuses mail-routing characters in the local part and percent-encoding in the domain', async (t) => {
  for (const raw of ['alice%example.com@relay.example', 'relay!alice@example.com', 'a%40b@example.com']) {
    const { field, message } = refusal(() => normaliseEmail(raw))
    t.equal(field, 'body.email', raw)
    t.match(message, /not a valid/, raw)
  }
  t.match(refusal(() => normaliseEmail('alice@ex%41mple.com')).message, /domain/, 'no percent-decoding of the domain')
})

t.test('normaliseEmail refuses control and invisible characters anywhere', async (t) => {
  const hidden = ['\r\n', '\n', '\r', '\t', '\0', '\u0007', '\u007f', '\u0085', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u202e', '\u2028']
  for (const character of hidden) {
    // named by code point: a raw U+2028 in an assertion message would break the TAP stream
    const name = [...character].map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`).join(' ')
    for (const raw of [`ali${character}ce@example.com`, `alice@example.com${character}`, `${character}alice@example.com`]) {
      const { field, message } = refusal(() => normaliseEmail(raw))
      t.equal(field, 'body.email', name)
      t.match(message, /control or invisible/, name)
    }
  }
  t.match(refusal(() => normaliseEmail('alice@example.com\r\nBcc: victim@example.com')).message, /control or invisible/)
})

t.test('normaliseEmail refuses what is not a sane address', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /required/],
    ['   ', /required/],
    ['alice', /exactly one @/],
    ['alice@@example.com', /exactly one @/],
    ['a@b@example.com', /exactly one @/],
    ['@example.com', /1 to 64/],
    ['x'.repeat(65) + '@example.com', /1 to 64/],
    ['alice@localhost', /domain/],
    ['alice@', /domain/],
    ['alice@example.', /domain/],
    ['alice@.example.com', /domain/],
    ['alice@example..com', /domain/],
    ['alice@-example.com', /domain/],
    ['alice@example-.com', /domain/],
    ['alice@192.168.0.1', /domain/],
    ['alice@[192.168.0.1]', /domain/],
    ['alice@exa_mple.com', /domain/],
    ['al ice@example.com', /spaces/],
    ['alice@example.com bob@example.com', /spaces/],
    ['.alice@example.com', /not a valid/],
    ['alice.@example.com', /not a valid/],
    ['al..ice@example.com', /not a valid/],
    ['"alice"@example.com', /not a valid/],
    ['alice<script>@example.com', /not a valid/],
    ['alice,bob@example.com', /not a valid/],
    ['a@' + 'b'.repeat(63) + '.' + 'c'.repeat(63) + '.' + 'd'.repeat(63) + '.' + 'e'.repeat(60) + '.com', /254/]
  ]
  for (const [raw, pattern] of cases) {
    const { field, message } = refusal(() => normaliseEmail(raw))
    t.equal(field, 'body.email')
    t.match(message, pattern, JSON.stringify(raw))
  }
})

t.test('normaliseEmail error carries detail and the problem extension', async (t) => {
  const error = t.throws(() => normaliseEmail('nope')) as AppError
  t.equal(error.status, 400)
  t.match(error.detail, /^Invalid email: /)
  t.same(error.extensions, { errors: [{ field: 'body.email', message: 'must contain exactly one @' }] })
})

t.test('normalisePhone returns E.164', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['(201) 555-0123', 'US', '+12015550123'],
    ['201.555.0123', 'US', '+12015550123'],
    ['+1 (212) 555-0100', 'US', '+12125550100'],
    ['  +1 212 555 0100  ', 'US', '+12125550100'],
    ['+44 20 7946 0958', 'US', '+442079460958'],
    ['+44 7400 123456', 'US', '+447400123456'],
    ['020 7946 0958', 'GB', '+442079460958'],
    ['+4915112345678', 'US', '+4915112345678'],
    ['+33 6 12 34 56 78', 'GB', '+33612345678']
  ]
  for (const [raw, region, expected] of cases) t.equal(normalisePhone(raw, region), expected, `${raw} in ${region}`)
})

t.test('normalisePhone reads national numbers in the default region only', async (t) => {
  t.equal(normalisePhone('020 7946 0958', 'GB'), '+442079460958')
  t.equal(refusal(() => normalisePhone('020 7946 0958', 'US')).field, 'body.phone')
  // a default region libphonenumber does not know leaves international numbers working
  t.equal(normalisePhone('+12125550100', 'ZZ'), '+12125550100')
  t.equal(refusal(() => normalisePhone('2125550100', 'ZZ')).field, 'body.phone')
})

t.test('normalisePhone refuses invalid numbers and injection', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /required/],
    ['hello', /not a phone number/],
    ['call +1 212 555 0100', /not a phone number/],
    ['+12125550100abc', /not a phone number/],
    ['+1 555 123 4567', /not a valid phone number/],
    ['+1 212 555', /not a valid phone number/],
    ['+44 20 7946 09581234', /not a valid/],
    ['+999 123456789', /not a/],
    ['+1 212 555 0100 ext. 12', /extension/],
    ['+1212555\r\n0100', /control or invisible/],
    ['+12125550100\n', /control or invisible/],
    ['+1212\u200b5550100', /control or invisible/],
    ['\ufeff+12125550100', /control or invisible/],
    ['+1 ' + '2'.repeat(70), /at most 64/]
  ]
  for (const [raw, pattern] of cases) {
    const { field, message } = refusal(() => normalisePhone(raw, 'US'))
    t.equal(field, 'body.phone', JSON.stringify(raw))
    t.match(message, pattern, JSON.stringify(raw))
  }
})

t.test('phoneCountry and phoneNumberType use the full metadata', async (t) => {
  t.equal(phoneCountry('+442079460958'), 'GB')
  t.equal(phoneCountry('+12125550100'), 'US')
  t.equal(phoneCountry('+4915112345678'), 'DE')
  t.equal(phoneCountry('not a number'), null)
  t.equal(phoneNumberType('+447400123456'), 'MOBILE')
  t.equal(phoneNumberType('+442079460958'), 'FIXED_LINE')
  t.equal(phoneNumberType('+19005550199'), 'PREMIUM_RATE')
  t.equal(phoneNumberType('+18005550199'), 'TOLL_FREE')
  t.equal(phoneNumberType('+12125550100'), 'FIXED_LINE_OR_MOBILE')
  t.equal(phoneNumberType('+15551234567'), null)
  t.equal(phoneNumberType(''), null)
})

t.test('normaliseIdentifier wants exactly one of email and phone', async (t) => {
  t.same(normaliseIdentifier({ email: ' Alice@Example.com ' }, 'US'), { kind: 'email', value: 'alice@example.com' })
  t.same(normaliseIdentifier({ phone: '(201) 555-0123' }, 'US'), { kind: 'phone', value: '+12015550123' })
  t.same(normaliseIdentifier({ email: 'a@example.com', phone: undefined }, 'US'), { kind: 'email', value: 'a@example.com' })
  t.same(refusal(() => normaliseIdentifier({ email: 'a@example.com', phone: '+12015550123' }, 'US')), { field: 'body', message: 'must have exactly one of email and phone' })
  t.same(refusal(() => normaliseIdentifier({}, 'US')), { field: 'body', message: 'must have exactly one of email and phone' })
  t.equal(refusal(() => normaliseIdentifier({ email: 'nope' }, 'US')).field, 'body.email')
  t.equal(refusal(() => normaliseIdentifier({ phone: 'nope' }, 'US')).field, 'body.phone')
})
