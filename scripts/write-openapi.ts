// npm run openapi: writes openapi.yaml from the live app's route schemas, and the types of the tests' typed client
// and of the @otp-gate/client package from it (tests fail when any drifts from the code).
import { mkdirSync, writeFileSync } from 'node:fs'
import { renderOpenApiYaml } from '../src/openapi-document.ts'
import { renderOpenApiTypes } from './openapi-types.ts'

const yaml = await renderOpenApiYaml()
writeFileSync(new URL('../openapi.yaml', import.meta.url), yaml)
mkdirSync(new URL('../test/generated/', import.meta.url), { recursive: true })
const types = await renderOpenApiTypes(yaml)
writeFileSync(new URL('../test/generated/openapi.d.ts', import.meta.url), types)
writeFileSync(new URL('../client/src/openapi.ts', import.meta.url), types)
