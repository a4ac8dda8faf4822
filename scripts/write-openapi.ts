// npm run openapi: writes openapi.yaml from the live app's route schemas (a test fails when they drift apart).
import { writeFileSync } from 'node:fs'
import { renderOpenApiYaml } from '../src/openapi-document.ts'

writeFileSync(new URL('../openapi.yaml', import.meta.url), await renderOpenApiYaml())
