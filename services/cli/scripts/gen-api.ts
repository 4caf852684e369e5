/**
 * `npm run gen:api`: regenerates services/cli/src/generated/api.d.ts from the server's live OpenAPI
 * document. Uses $REDIS_URL when set; otherwise starts a throwaway redis-server on a free port.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateApiTypes, GENERATED_TYPES_PATH } from './openapi-types';
import { startTestRedis } from '../../../test/support/redis-server';

const external = process.env.REDIS_URL;
const redis = external ? undefined : await startTestRedis();
try {
  const text = await generateApiTypes(external ?? redis!.url);
  await writeFile(GENERATED_TYPES_PATH, text);
  console.log(`wrote ${fileURLToPath(GENERATED_TYPES_PATH)}`);
} finally {
  await redis?.stop();
}
