import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardRoutes, installErrorHandler } from '@kumo/api';

/** The static route alone, over a folder of our own: no Redis, no build. */
async function appOver(dir: string): Promise<FastifyInstance> {
  const app = Fastify();
  installErrorHandler(app);
  dashboardRoutes(app, { dir });
  await app.ready();
  return app;
}

describe('dashboardRoutes', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('says how to build the dashboard when it is not built, in the API’s error shape', async () => {
    app = await appOver(join(tmpdir(), 'kumo-no-such-dashboard'));
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'NOT_READY' });
    expect(res.json().error.message).toContain('npm run build:web');
  });

  it('serves files by type, answers 304 to a matching ETag, and nothing outside its folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-web-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>kumo</title>');
    writeFileSync(join(dir, 'app.js'), 'export {};');
    writeFileSync(join(dir, 'notes.txt'), 'not a dashboard asset');
    app = await appOver(dir);

    const js = await app.inject({ url: '/ui/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('no-cache');
    const again = await app.inject({ url: '/ui/app.js', headers: { 'if-none-match': String(js.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    const index = await app.inject({ url: '/' });
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("connect-src 'self'");

    for (const url of [
      '/ui/..%2Findex.html',
      '/ui/../../package.json',
      '/ui/.hidden.js',
      '/ui/notes.txt',
      '/ui/missing.css',
      '/ui/a/b.js',
    ]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
    }
  });
});
