import neostandard from 'neostandard'

const HTTP_GLUE = ['fastify', 'fastify-*', '@fastify/*', '**/plugins/**']
// random bytes come from one pool (src/random-bytes.ts): a call into OpenSSL per value cost 5–6 µs under load
const POOLED_RANDOM = {
  name: 'node:crypto', importNames: ['randomBytes'], message: 'Use randomBytes from src/random-bytes.ts.'
}

export default [
  ...neostandard({ ts: true, ignores: ['node_modules', 'bench/results', 'client/src/openapi.ts', 'client/dist'] }),
  {
    // a line fits a side-by-side diff; a long URL, string or pattern is clearer whole than cut
    rules: {
      '@stylistic/max-len': ['error', {
        code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true
      }]
    }
  },
  {
    // the domain, its adapters and the composition root never reach into HTTP glue; only the entry points do
    files: ['src/**'],
    ignores: ['src/app.ts', 'src/server.ts', 'src/worker.ts', 'src/random-bytes.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [POOLED_RANDOM], patterns: HTTP_GLUE }] }
  },
  {
    files: ['src/app.ts', 'src/server.ts', 'src/worker.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [POOLED_RANDOM] }] }
  },
  {
    files: ['src/random-bytes.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: HTTP_GLUE }] }
  }
]
