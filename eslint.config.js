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
    // the domain never reaches into HTTP glue
    files: ['src/otp/**', 'src/users/**', 'src/sessions/**', 'src/delivery/**', 'src/totp/**', 'src/redis-lua/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['fastify', 'fastify-*', '@fastify/*', '**/plugins/**'] }]
    }
  }
]
