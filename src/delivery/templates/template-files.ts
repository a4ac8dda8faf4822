import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MESSAGE_KINDS, TEMPLATE_PARTS, type MessageKind, type TemplatePart } from './message-kinds.ts'

export const BUILT_IN_DIR = fileURLToPath(new URL('./built-in/', import.meta.url))

/** A template that can not be used; its message is one line naming the file. */
export class TemplateError extends Error {
  override name = 'TemplateError'
  constructor (file: string, reason: string) {
    super(`template ${file}: ${reason.replace(/\s*\n\s*/g, ' ')}`)
  }
}

export interface TemplateFile {
  /** where it was read, for messages */
  file: string
  source: string
}

/** One folder of templates: `<language>/<kind>.<part>.hbs` and `partials/<name>.html.hbs`. */
export interface TemplateFolder {
  /** by language, then `<kind>.<part>` */
  messages: Map<string, Map<string, TemplateFile>>
  partials: Map<string, TemplateFile>
}

const MESSAGE_FILE = new RegExp(`^(${MESSAGE_KINDS.join('|')})\\.(${TEMPLATE_PARTS.join('|')})\\.hbs$`)
const PARTIAL_FILE = /^([a-z][a-z0-9-]*)\.html\.hbs$/
const LANGUAGE = /^[a-z]{2,3}$/

export const messageKey = (kind: MessageKind, part: TemplatePart): string => `${kind}.${part}`

function entries (dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith('.')).toSorted()
  } catch (error) {
    throw new TemplateError(dir, `cannot read the folder (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

const read = (file: string): TemplateFile => ({ file, source: readFileSync(file, 'utf8') })

/**
 * Reads a folder of templates. Anything else in it (a misspelt file name, a language folder that is not a
 * language) is refused, so a typo can not leave a template silently unused.
 */
export function readTemplateFolder (dir: string): TemplateFolder {
  const folder: TemplateFolder = { messages: new Map(), partials: new Map() }
  for (const name of entries(dir)) {
    const path = join(dir, name)
    if (!statSync(path).isDirectory()) throw new TemplateError(path, 'expected only language folders (en, fr, …) and partials/')
    for (const fileName of entries(path)) {
      const file = join(path, fileName)
      if (name === 'partials') {
        const partial = PARTIAL_FILE.exec(fileName)
        if (!partial?.[1]) throw new TemplateError(file, 'a partial is named <name>.html.hbs')
        folder.partials.set(partial[1], read(file))
        continue
      }
      if (!LANGUAGE.test(name)) throw new TemplateError(path, 'a language folder is named by its ISO 639 code in lower case, e.g. fr')
      const message = MESSAGE_FILE.exec(fileName)
      if (!message) throw new TemplateError(file, `expected <kind>.<part>.hbs, kind ${MESSAGE_KINDS.join('|')}, part ${TEMPLATE_PARTS.join('|')}`)
      const files = folder.messages.get(name) ?? new Map<string, TemplateFile>()
      files.set(fileName.slice(0, -'.hbs'.length), read(file))
      folder.messages.set(name, files)
    }
  }
  return folder
}

/** The custom folder over the built-in one: each file it has replaces the built-in file of that name. */
export function overlay (base: TemplateFolder, custom: TemplateFolder): TemplateFolder {
  const messages = new Map([...base.messages].map(([language, files]) => [language, new Map(files)]))
  for (const [language, files] of custom.messages) {
    const merged = messages.get(language) ?? new Map<string, TemplateFile>()
    for (const [key, file] of files) merged.set(key, file)
    messages.set(language, merged)
  }
  return { messages, partials: new Map([...base.partials, ...custom.partials]) }
}
