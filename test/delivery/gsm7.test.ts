import t from 'tap'
import { gsm7Septets, isGsm7 } from '../../src/delivery/gsm7.ts'

t.test('basic characters cost one septet, extension characters two', async (t) => {
  t.equal(gsm7Septets('Hello 123'), 9)
  t.equal(gsm7Septets('é à ü ß Ñ ¿ @ £ \n'), 17)
  t.equal(gsm7Septets('€[]{}~^|\\'), 18)
  t.equal(gsm7Septets(''), 0)
})

t.test('characters outside GSM-7 make the text UCS-2', async (t) => {
  for (const text of ['ê', 'ç', 'á', 'ó', '’', '…', '😀', 'Ĉ']) t.equal(gsm7Septets(`a${text}b`), null, text)
  t.notOk(isGsm7('Votre code est prêt'))
  t.ok(isGsm7('Votre code est 123456. Il expire dans 5 minutes.'))
})

t.test('the tables have the sizes of GSM 03.38: 127 basic (128 minus escape) and 10 extension', async (t) => {
  let basic = 0
  let extension = 0
  for (let code = 0; code < 0x2100; code++) {
    const septets = gsm7Septets(String.fromCharCode(code))
    if (septets === 1) basic++
    if (septets === 2) extension++
  }
  // the € sign lives at U+20AC, inside the scanned range
  t.equal(basic, 127)
  t.equal(extension, 10)
})
