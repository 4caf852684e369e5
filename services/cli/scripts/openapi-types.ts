import { randomBytes } from 'node:crypto';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { buildApp } from '@kumo/api';
import { createBus, createLogger } from '@kumo/shared';

/*
 * openapi-typescript builds its output with the TypeScript 5 compiler API (ts.factory), which the root's
 * TypeScript 7 no longer offers to JavaScript. So services/cli has typescript@5 as its own devDependency:
 * npm nests it, with openapi-typescript, under services/cli/node_modules. The typecheck stays on 7.
 */

/** Where the generated types live, relative to this folder; the drift test reads the same file. */
export const GENERATED_TYPES_PATH = new URL('../src/generated/api.d.ts', import.meta.url);

const HEADER = `/**
 * Generated from the API's GET /openapi.json by openapi-typescript (services/cli/scripts/gen-api.ts).
 * Do not edit: change the server's zod schemas, then run \`npm run gen:api\`. test/cli/openapi-drift.test.ts
 * fails while this file and the server disagree.
 */

`;

/**
 * The OpenAPI document exactly as the server serves it: the real app, built in-process (no port), so the
 * types come from the same zod schemas that validate requests. buildApp needs a Redis for its stores and
 * event hub; nothing is written to it (a fresh prefix keeps even that certain).
 */
export async function fetchOpenApiDocument(redisUrl: string): Promise<OpenAPI3> {
  const adminToken = randomBytes(24).toString('hex');
  const prefix = `gen-api-${randomBytes(4).toString('hex')}`;
  const logger = createLogger({ name: 'gen-api', level: 'silent' });
  const bus = await createBus({ kind: 'redis', redisUrl, prefix, logger });
  const app = await buildApp({ redisUrl, prefix, adminToken, logger, bus });
  try {
    await app.ready();
    const res = await app.inject({
      method: 'GET',
      url: '/openapi.json',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    if (res.statusCode !== 200)
      throw new Error(`GET /openapi.json answered ${res.statusCode}: ${res.body.slice(0, 500)}`);
    return res.json<OpenAPI3>();
  } finally {
    await app.close();
    await bus.close();
  }
}

/** The text of services/cli/src/generated/api.d.ts for the server as it is now. */
export async function generateApiTypes(redisUrl: string): Promise<string> {
  const doc = await fetchOpenApiDocument(redisUrl);
  // silent: openapi-typescript otherwise logs its own progress and warnings to stdout mid-test.
  const ast = await openapiTS(doc, { silent: true });
  return HEADER + astToString(ast);
}
