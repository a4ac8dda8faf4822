/** Answers the fixed code of a test identifier, or undefined for everyone else. */
export type TestCodeMatcher = (destination: string) => string | undefined

const escapeRegExp = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&')

/**
 * Parses TEST_IDENTIFIERS entries such as `*@loadtest.example=000000` or `+1555*=123456`: a glob (`*` only)
 * matched against the whole normalised destination, case-insensitively (emails are normalised to lower case,
 * patterns typed by people may not be), and the code it always gets. The first matching entry wins.
 * Throws on an entry whose code is not exactly `codeLength` digits, naming the entry.
 */
export function parseTestIdentifiers (entries: readonly string[], codeLength: number): TestCodeMatcher {
  const rules = entries.map((entry) => {
    const separator = entry.lastIndexOf('=')
    const pattern = entry.slice(0, separator).trim()
    const code = entry.slice(separator + 1).trim()
    if (separator === -1 || pattern === '') throw new Error(`TEST_IDENTIFIERS entry "${entry}" is not pattern=code`)
    if (!new RegExp(`^\\d{${codeLength}}$`).test(code)) {
      throw new Error(`TEST_IDENTIFIERS entry "${entry}": the code must be exactly ${codeLength} digits (OTP_CODE_LENGTH)`)
    }
    const regExp = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'i')
    return { regExp, code }
  })
  return (destination) => rules.find((rule) => rule.regExp.test(destination))?.code
}
