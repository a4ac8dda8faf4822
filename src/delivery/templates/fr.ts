import type { CodeTemplate } from './code-template.ts'

const minutes = (count: number) => count === 1 ? '1 minute' : `${count} minutes`

export const fr: CodeTemplate = {
  lang: 'fr',
  subject: ({ appName }) => `Votre code de vérification ${appName}`,
  intro: ({ appName }) => `Votre code de vérification ${appName} est :`,
  expiry: (values) => `Il expire dans ${minutes(values.minutes)}.`,
  ignore: 'Si vous n’avez pas demandé ce code, ignorez ce message. Ne communiquez jamais ce code à personne.',
  sms: (values) => `Votre code ${values.appName} est ${values.code}. Il expire dans ${minutes(values.minutes)}. Ne le partagez pas.`
}
