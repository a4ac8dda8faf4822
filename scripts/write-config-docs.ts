// Writes .env.example and the README's configuration tables from ConfigSchema, so the documented variables never
// drift from the validated ones (test/config.test.ts checks both).
import { readFileSync, writeFileSync } from 'node:fs'
import { renderEnvExample, withConfigTables } from '../src/config-docs.ts'

const readme = new URL('../README.md', import.meta.url)
writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample())
writeFileSync(readme, withConfigTables(readFileSync(readme, 'utf8')))
