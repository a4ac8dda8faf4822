import type { CodeTemplate } from './code-template.ts'

const minutes = (count: number) => count === 1 ? '1 Minute' : `${count} Minuten`

export const de: CodeTemplate = {
  lang: 'de',
  subject: ({ appName }) => `Ihr Bestätigungscode für ${appName}`,
  intro: ({ appName }) => `Ihr Bestätigungscode für ${appName} lautet:`,
  expiry: (values) => `Er ist ${minutes(values.minutes)} gültig.`,
  ignore: 'Wenn Sie diesen Code nicht angefordert haben, ignorieren Sie diese Nachricht. Geben Sie den Code niemals weiter.',
  sms: (values) => `Ihr Code für ${values.appName} lautet ${values.code}. Er ist ${minutes(values.minutes)} gültig. Nicht weitergeben.`
}
