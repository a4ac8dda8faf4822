// Writes .env.example and the configuration tables of docs/configuration.md from ConfigSchema, so the documented
// variables never drift from the validated ones (test/config.test.ts checks both).
import { readFileSync, writeFileSync } from 'node:fs'
import { renderEnvExample, withConfigTables } from '../src/config/config-docs.ts'

const page = new URL('../docs/configuration.md', import.meta.url)
writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample())
writeFileSync(page, withConfigTables(readFileSync(page, 'utf8')))
