import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['node_modules', 'bench/results', 'test/generated', 'client/src/openapi.ts', 'client/dist'] }),
  {
    // the domain never reaches into HTTP glue
    files: ['src/otp/**', 'src/users/**', 'src/sessions/**', 'src/delivery/**', 'src/totp/**', 'src/redis-lua/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['fastify', 'fastify-*', '@fastify/*', '**/plugins/**'] }]
    }
  }
]
