import { OtpGateError, errorFromResponse } from './errors.ts'

export interface Answer<Data> { data?: Data, error?: unknown, response: Response }
export type Bearer = { authorization: string }

/** The body of a successful answer, or the OtpGateError of any other; a fetch that failed is a `network_error`. */
export async function answerOf<Data> (call: () => Promise<Answer<Data>>): Promise<{ data: Data, response: Response }> {
  let answer: Answer<Data>
  try {
    answer = await call()
  } catch (error) {
    throw new OtpGateError('network_error', 0, 'The API could not be reached.', { cause: error })
  }
  if (!answer.response.ok) throw errorFromResponse(answer.response, answer.error)
  return { data: answer.data as Data, response: answer.response }
}
