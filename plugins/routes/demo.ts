import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'

const DEMO = new URL('../../demo/', import.meta.url)
// the page runs its own script and talks to its own origin, nothing else
const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"
].join('; ')

interface DemoAssets { html: string, css: string, js: string }

let assets: Promise<DemoAssets> | undefined

/**
 * The page, its stylesheet, and its script bundled from demo/main.ts and the client's sources by esbuild: built on
 * the first request and kept for the process, so the many apps a test run builds do not each pay for a bundle.
 */
function demoAssets (): Promise<DemoAssets> {
  assets ??= (async () => {
    const { build } = await import('esbuild')
    const [html, css, bundle] = await Promise.all([
      readFile(new URL('index.html', DEMO), 'utf8'),
      readFile(new URL('style.css', DEMO), 'utf8'),
      build({
        entryPoints: [fileURLToPath(new URL('main.ts', DEMO))],
        bundle: true,
        write: false,
        format: 'esm',
        target: 'es2022',
        minify: true,
        legalComments: 'none',
        logLevel: 'silent'
      })
    ])
    return { html, css, js: bundle.outputFiles[0]?.text ?? '' }
  })().catch((error: unknown) => {
    assets = undefined
    throw error
  })
  return assets
}

const send = (reply: FastifyReply, type: string, body: string) =>
  reply.type(type).header('cache-control', 'no-cache').header('content-security-policy', CSP).send(body)

/**
 * GET /demo: a sign-in page built from @otp-gate/client. Registered only where the dev outbox is (the page's
 * codes come from it), never in production; not part of the API, so not in its document.
 */
async function demoRoutes (app: FastifyInstance) {
  try {
    import.meta.resolve('esbuild')
  } catch {
    app.log.warn('/demo is not served: it is bundled with esbuild, a devDependency that is not installed')
    return
  }
  const files = [
    ['/demo', 'text/html; charset=utf-8', 'html'],
    ['/demo/style.css', 'text/css; charset=utf-8', 'css'],
    ['/demo/app.js', 'text/javascript; charset=utf-8', 'js']
  ] as const
  for (const [url, type, asset] of files) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => send(reply, type, (await demoAssets())[asset]))
  }
}

export default demoRoutes
