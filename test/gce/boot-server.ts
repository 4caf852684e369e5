import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What a worker VM's startup script talks to at boot, on one local port: the metadata server (instance
 * attributes, name, zone, project id, the service account's access token) under `/computeMetadata/v1`,
 * and Secret Manager's `versions/*:access` under `/v1`. As the real ones: the metadata server answers
 * 403 without `Metadata-Flavor: Google`; Secret Manager answers 401 without the token the metadata
 * server handed out, 404 for a secret it does not hold, and the payload base64 in pretty-printed JSON.
 */
export interface BootServer {
  /** KUMO_STARTUP_METADATA_ROOT */
  metadataRoot: string;
  /** KUMO_STARTUP_SECRET_MANAGER */
  secretManager: string;
  /** The access token the metadata server hands out. */
  accessToken: string;
  /** Secret Manager requests, in order: the secret version's resource name and whether the token was right. */
  accesses: { resource: string; authorized: boolean }[];
  /** The next `times` Secret Manager requests answer `status`. */
  failNext(status: number, times?: number): void;
  close(): Promise<void>;
}

export interface BootServerOptions {
  project: string;
  name: string;
  zone: string;
  attributes: Record<string, string>;
  /** Secret resource name (`projects/p/secrets/s`) -> value. */
  secrets: Record<string, string>;
}

const ACCESS = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+):access$/;

export async function startBootServer(opts: BootServerOptions): Promise<BootServer> {
  const accessToken = `ya29.test-token-${Math.random().toString(36).slice(2)}`;
  const accesses: BootServer['accesses'] = [];
  const failures: number[] = [];

  const metadata = (path: string): string | undefined => {
    if (path.startsWith('instance/attributes/')) return opts.attributes[path.slice('instance/attributes/'.length)];
    if (path === 'instance/name') return opts.name;
    if (path === 'instance/zone') return `projects/123456/zones/${opts.zone}`;
    if (path === 'project/project-id') return opts.project;
    if (path === 'instance/service-accounts/default/token')
      return JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://boot').pathname;
    if (path.startsWith('/computeMetadata/v1/')) {
      if (req.headers['metadata-flavor'] !== 'Google')
        return void res.writeHead(403).end('Missing Metadata-Flavor:Google header');
      const value = metadata(path.slice('/computeMetadata/v1/'.length));
      if (value === undefined) return void res.writeHead(404, { 'content-type': 'text/html' }).end('Not Found');
      return void res.writeHead(200, { 'content-type': 'application/text', 'metadata-flavor': 'Google' }).end(value);
    }
    const m = path.match(ACCESS);
    if (req.method === 'GET' && m) {
      const authorized = req.headers.authorization === `Bearer ${accessToken}`;
      accesses.push({ resource: `${m[1]}/versions/${m[2]}`, authorized });
      const json = (status: number, body: unknown): void =>
        void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2));
      const failing = failures.shift();
      if (failing !== undefined)
        return json(failing, { error: { code: failing, message: 'injected', status: 'UNAVAILABLE' } });
      if (!authorized)
        return json(401, {
          error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' },
        });
      const value = opts.secrets[m[1]!];
      if (value === undefined)
        return json(404, {
          error: { code: 404, message: `Secret [${m[1]}] not found or has no versions.`, status: 'NOT_FOUND' },
        });
      return json(200, {
        name: `${m[1]}/versions/1`,
        payload: { data: Buffer.from(value).toString('base64'), dataCrc32c: '0' },
      });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    metadataRoot: `${base}/computeMetadata/v1`,
    secretManager: `${base}/v1`,
    accessToken,
    accesses,
    failNext: (status, times = 1) => failures.push(...Array<number>(times).fill(status)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
