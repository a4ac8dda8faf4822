export interface TemplateValues {
  appName: string
  code: string
  minutes: number
}

/**
 * The words of a code message in one language. The renderer assembles them into the email (text and HTML,
 * escaping there, once) and the SMS, so a locale file holds sentences only.
 * SMS sentences must stay in the GSM-7 alphabet (no â, ê, ç, á, í, ó, ú...) so the text fits one segment.
 */
export interface CodeTemplate {
  /** BCP 47 language, for the HTML lang attribute */
  lang: string
  subject (values: TemplateValues): string
  /** the sentence just before the code, e.g. "Your Acme verification code is:" */
  intro (values: TemplateValues): string
  expiry (values: TemplateValues): string
  ignore: string
  /** the SMS without the Web OTP line */
  sms (values: TemplateValues): string
}
