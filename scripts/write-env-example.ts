// Writes .env.example from ConfigSchema, so the documented variables never drift from the validated ones.
import { writeFileSync } from 'node:fs'
import { renderEnvExample } from '../src/env-example.ts'

writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample())
