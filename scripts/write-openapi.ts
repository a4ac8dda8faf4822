// npm run openapi: writes openapi.yaml from the live app's route schemas, and the typed client's types from it
// (tests fail when either drifts from the code).
import { mkdirSync, writeFileSync } from 'node:fs'
import { renderOpenApiYaml } from '../src/openapi-document.ts'
import { renderOpenApiTypes } from './openapi-types.ts'

const yaml = await renderOpenApiYaml()
writeFileSync(new URL('../openapi.yaml', import.meta.url), yaml)
mkdirSync(new URL('../test/generated/', import.meta.url), { recursive: true })
writeFileSync(new URL('../test/generated/openapi.d.ts', import.meta.url), await renderOpenApiTypes(yaml))
