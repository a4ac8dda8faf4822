// The demo's passkeys: sign in with one (a button, and the email field's autofill), and add, list and remove them.
import { OtpGateError, type OtpGateClient, type Passkey } from '../client/src/index.ts'

export interface PasskeyPage {
  client: OtpGateClient
  /** runs an action with the section's buttons disabled, saying what failed */
  busy: (section: HTMLElement, action: () => Promise<void>) => Promise<void>
  say: (message: string) => void
}

// what a quiet failure of the autofill offer looks like: closed, not offered here, or passkeys off on the server
const QUIET = new Set(['passkey_cancelled', 'passkey_unsupported', 'not_found'])

// a passkey sign-in shows the signed-in step through the page's onAuthChange listener, as any sign-in here does
export function passkeyPage ({ client, busy, say }: PasskeyPage) {
  const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
  const startForm = element<HTMLFormElement>('start-form')
  const section = element<HTMLElement>('signed-in')

  function render (passkeys: Passkey[]): void {
    element('passkeys').replaceChildren(...passkeys.map((passkey) => {
      const item = document.createElement('li')
      const used = passkey.lastUsedAt === null ? 'never used' : `last used ${new Date(passkey.lastUsedAt).toLocaleString()}`
      item.textContent = `${passkey.name}, added ${new Date(passkey.createdAt).toLocaleString()}, ${used} `
      const remove = document.createElement('button')
      remove.type = 'button'
      remove.textContent = 'Remove'
      remove.setAttribute('aria-label', `Remove the passkey ${passkey.name}`)
      remove.addEventListener('click', () => busy(section, async () => {
        await client.passkeys.remove(passkey.id)
        say(`The passkey ${passkey.name} is removed; also delete it on the device.`)
        await load()
      }))
      item.append(remove)
      return item
    }))
  }

  /** The list; empty where the server has passkeys off. */
  async function load (): Promise<void> {
    try {
      render(await client.passkeys.list())
    } catch (error) {
      if (!(error instanceof OtpGateError && error.code === 'not_found')) throw error
      render([])
    }
  }

  /** The email field's autofill offers this device's passkeys (conditional UI) while the start step is shown. */
  function offerInAutofill (): void {
    client.auth.signInWithPasskey({ conditional: true }).then(() => {
      say('You are signed in with a passkey.')
    }, (error: unknown) => {
      if (error instanceof OtpGateError && QUIET.has(error.code)) return
      return busy(startForm, () => Promise.reject(error))
    })
  }

  element('passkey-sign-in').addEventListener('click', () => busy(startForm, async () => {
    await client.auth.signInWithPasskey()
    say('You are signed in with a passkey.')
  }))

  element('add-passkey').addEventListener('click', () => busy(section, async () => {
    const name = element<HTMLInputElement>('passkey-name').value.trim()
    const added = await client.passkeys.register(name === '' ? undefined : name)
    say(`The passkey ${added.name} is added: next time, sign in with it.`)
    await load()
  }))

  return { load, offerInAutofill }
}
