import neostandard from 'neostandard'

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
    ignores: ['src/app.ts', 'src/server.ts', 'src/worker.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['fastify', 'fastify-*', '@fastify/*', '**/plugins/**'] }]
    }
  }
]
