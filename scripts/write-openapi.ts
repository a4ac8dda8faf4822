// npm run openapi: writes openapi.yaml from the live app's route schemas, and the types of the @otp-gate/client
// package from it, which the tests' typed client uses too (tests fail when either drifts from the code).
import { writeFileSync } from 'node:fs'
import { renderOpenApiYaml } from './openapi-document.ts'
import { renderOpenApiTypes } from './openapi-types.ts'

const yaml = await renderOpenApiYaml()
writeFileSync(new URL('../openapi.yaml', import.meta.url), yaml)
writeFileSync(new URL('../client/src/openapi.ts', import.meta.url), await renderOpenApiTypes(yaml))
