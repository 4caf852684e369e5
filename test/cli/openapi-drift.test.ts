import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { generateApiTypes, GENERATED_TYPES_PATH } from '../../services/cli/scripts/openapi-types';

describe('the CLI’s generated API types', () => {
  it('match what the server’s /openapi.json generates now (else run `npm run gen:api`)', async () => {
    const fresh = await generateApiTypes(inject('redisUrl'));
    const committed = readFileSync(GENERATED_TYPES_PATH, 'utf8');
    expect(fresh).toContain('"/v1/jobs/{id}/events"');
    // toBe on the whole text: the diff vitest prints shows which schema moved.
    expect(committed, 'services/cli/src/generated/api.d.ts is stale: run `npm run gen:api` and commit it').toBe(fresh);
  });
});
