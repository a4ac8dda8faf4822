import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)
/** The markdown we write: the README, the client's and every docs page (bench/results/ is generated). */
const pages = ['README.md', 'client/README.md', ...docs]

/** The lines GitHub renders as text, fenced code blocks left out. */
function proseLines (markdown: string): string[] {
  const lines: string[] = []
  let fence: string | null = null
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence !== null) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = null
    } else if (marker !== undefined) {
      fence = marker
    } else {
      lines.push(line)
    }
  }
  return lines
}

/** A heading's anchor as GitHub makes it: the text lower-cased, punctuation dropped, spaces as hyphens. */
function githubSlug (heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text
    .replace(/<[^>]+>/g, '') // inline HTML
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** Every anchor a page offers: its headings' slugs (a repeated one gets -1, -2, …) and explicit ids. */
function anchorsOf (markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const line of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1]
    if (heading !== undefined) {
      const slug = githubSlug(heading)
      const count = seen.get(slug) ?? 0
      seen.set(slug, count + 1)
      anchors.add(count === 0 ? slug : `${slug}-${count}`)
    }
    for (const [, id] of line.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(id!)
  }
  return anchors
}

/** Every link target of a page: inline links and images, reference definitions, HTML href and src. */
function linksOf (markdown: string): string[] {
  const targets: string[] = []
  for (const line of proseLines(markdown).map((text) => text.replace(/(`+)[^`].*?\1/g, '``'))) { // inline code is no link
    for (const [, target] of line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(target!)
    for (const [, target] of line.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/g)) targets.push(target!)
    for (const [, target] of line.matchAll(/\b(?:href|src)="([^"]+)"/g)) targets.push(target!)
  }
  return targets
}

const read = (page: string) => readFileSync(join(root, page), 'utf8')

t.test('githubSlug makes the anchors GitHub makes', async (t) => {
  t.equal(githubSlug('The dev outbox, and channels without a provider'), 'the-dev-outbox-and-channels-without-a-provider')
  t.equal(githubSlug('The client: `@otp-gate/client`'), 'the-client-otp-gateclient')
  t.equal(githubSlug('Delivery: a queue and its workers'), 'delivery-a-queue-and-its-workers')
  t.equal(githubSlug('SMS-pumping guard'), 'sms-pumping-guard')
  t.equal(githubSlug('What is stored where, and for how long'), 'what-is-stored-where-and-for-how-long')
  t.equal(githubSlug('See [the map](../README.md) — Ünïcode 2'), 'see-the-map--ünïcode-2')
  t.same([...anchorsOf('# A\n## A\n```\n# A\n```\n### A!\n')], ['a', 'a-1', 'a-2'], 'repeats numbered, code blocks skipped')
})

t.test('every relative link of the README and docs/ points at a file, and an anchor at a heading, that exist', async (t) => {
  for (const page of pages) {
    const links = linksOf(read(page)).filter((target) => !/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(target))
    // a page without relative links has nothing to check here
    if (links.length === 0) continue
    t.test(page, async (t) => {
      for (const link of links) {
        const [path = '', anchor] = link.split('#')
        const target = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path.split('?')[0]!)))
        const inside = !isAbsolute(path) && !target.startsWith('..')
        t.ok(inside && existsSync(join(root, target)), `${link}: ${target} exists in the repository`)
        if (anchor !== undefined && target.endsWith('.md') && inside && existsSync(join(root, target))) {
          t.ok(anchorsOf(read(target)).has(decodeURIComponent(anchor)), `${link}: ${target} has a heading #${anchor}`)
        }
      }
    })
  }
})

t.test('each docs page says who it is for, and the README links to it', async (t) => {
  const readmeTargets = linksOf(read('README.md'))
  for (const page of docs) {
    const [title, opening] = read(page).split(/\n\s*\n/)
    t.match(title, /^# \S/, `${page} opens with its title`)
    t.match(opening, /^For /, `${page}: then one line saying who it is for`)
    t.ok(readmeTargets.some((target) => target.split('#')[0] === page), `the README links to ${page}`)
  }
})
