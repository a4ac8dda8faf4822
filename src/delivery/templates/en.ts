import type { CodeTemplate } from './code-template.ts'

const minutes = (count: number) => count === 1 ? '1 minute' : `${count} minutes`

export const en: CodeTemplate = {
  lang: 'en',
  subject: ({ appName }) => `Your ${appName} verification code`,
  intro: ({ appName }) => `Your ${appName} verification code is:`,
  expiry: (values) => `It expires in ${minutes(values.minutes)}.`,
  ignore: 'If you did not ask for this code, you can ignore this message. Never share the code with anyone.',
  sms: (values) => `Your ${values.appName} code is ${values.code}. It expires in ${minutes(values.minutes)}. Never share it.`
}
