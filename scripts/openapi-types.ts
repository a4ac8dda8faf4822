import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript'

/** TypeScript types of the document (paths, components, operations), for the typed test client. */
export async function renderOpenApiTypes (yaml: string): Promise<string> {
  const ast = await openapiTS(yaml, { silent: true })
  return COMMENT_HEADER.replace(' */', ' * Written by `npm run openapi` from openapi.yaml.\n */') + astToString(ast)
}
