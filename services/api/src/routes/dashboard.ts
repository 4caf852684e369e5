import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { KumoError } from '@kumo/shared';

/** Where `npm run build:web` writes the bundle (dashboards/web/build.ts); nothing is built at run time. */
const DEFAULT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../dashboards/web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The page may load only its own script and styles and talk only to this API, so even a job name
 * that slipped into the DOM as markup could neither run script nor send data elsewhere.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** One path segment of plain characters: no `..`, no slashes, no dotfiles, so nothing outside the folder. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * The web dashboard's static files: `/` (index.html) and `/ui/*` (its script and styles). Open
 * without a token, like the health probes: the files hold no data, and every data call the page
 * makes carries the user's token. Hidden from OpenAPI: they are not part of the REST contract.
 */
export function dashboardRoutes(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DEFAULT_DIR;

  const send = async (reply: FastifyReply, name: string, ifNoneMatch: string | undefined): Promise<FastifyReply> => {
    const type = TYPES[extname(name)];
    if (!type) throw new KumoError('NOT_FOUND', `no dashboard file '${name}'`);
    let body: Buffer;
    try {
      body = await readFile(join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (name === 'index.html')
        throw new KumoError(
          'NOT_READY',
          'the dashboard is not built: run `npm run build:web` (npm start and npm test run it first)',
        );
      throw new KumoError('NOT_FOUND', `no dashboard file '${name}'`);
    }
    // A content hash as ETag with no-cache: a rebuilt bundle is picked up at once, an unchanged one costs a 304.
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    void reply
      .header('content-type', type)
      .header('cache-control', 'no-cache')
      .header('etag', etag)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (name === 'index.html') void reply.header('content-security-policy', CSP);
    if (ifNoneMatch === etag) return reply.status(304).send();
    return reply.send(body);
  };

  app.get('/', { schema: { hide: true } }, (req, reply) => send(reply, 'index.html', req.headers['if-none-match']));
  app.get<{ Params: { '*': string } }>('/ui/*', { schema: { hide: true } }, (req, reply) => {
    const name = req.params['*'];
    if (!ASSET_NAME.test(name)) throw new KumoError('NOT_FOUND', 'no such dashboard file');
    return send(reply, name, req.headers['if-none-match']);
  });
}
