import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server speaking the subset of the GCS JSON API that @google-cloud/storage 7 uses with
 * `apiEndpoint: 'http://127.0.0.1:<port>'`: uploads (uploadType multipart, media and resumable) under
 * /upload/storage/v1, object metadata and media download (`alt=media`, with the `x-goog-hash` header the
 * client validates), object listing with prefix / delimiter / paging, and delete.
 *
 * Uploads answer with the object resource carrying `crc32c` and `md5Hash` of what arrived: the client
 * compares them with its own and deletes the object and throws when they differ.
 */

export interface FakeGcsObject {
  bucket: string;
  name: string;
  data: Buffer;
  contentType: string;
  generation: string;
  created: string;
}

export interface FakeGcs {
  /** `http://127.0.0.1:<port>`: what KUMO_STORAGE_ENDPOINT takes. */
  endpoint: string;
  port: number;
  /** Every request, in order (`METHOD path?query`). */
  requests: string[];
  /** Requests that matched no route. */
  unknownRoutes: string[];
  /** uploadType of every completed upload, in order. */
  uploads: Array<{ bucket: string; name: string; uploadType: string }>;
  object(bucket: string, name: string): FakeGcsObject | undefined;
  names(bucket: string): string[];
  /** The next matching request answers with this HTTP status. */
  failNext(status: number, route?: 'upload' | 'download' | 'list' | 'delete' | 'any'): void;
  /** The next upload stores one byte less than it received, so its hashes will not match the client's. */
  corruptNextUpload(): void;
  close(): Promise<void>;
}

/** CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as GCS computes it. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The form GCS puts in `crc32c` and `x-goog-hash`: base64 of the big-endian 32-bit value. */
export function crc32cBase64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(data));
  return out.toString('base64');
}

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  chunks: Buffer[];
  received: number;
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const buckets = new Map<string, Map<string, FakeGcsObject>>();
  const sessions = new Map<string, Session>();
  const failures: Array<{ status: number; route: string }> = [];
  const requests: string[] = [];
  const unknownRoutes: string[] = [];
  const uploads: FakeGcs['uploads'] = [];
  let corruptNext = false;
  let generation = Date.now() * 1000;
  let endpoint = '';

  const bucketOf = (name: string): Map<string, FakeGcsObject> => {
    let b = buckets.get(name);
    if (!b) buckets.set(name, (b = new Map()));
    return b;
  };

  function resource(o: FakeGcsObject): Record<string, unknown> {
    const enc = encodeURIComponent(o.name);
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      selfLink: `${endpoint}/storage/v1/b/${o.bucket}/o/${enc}`,
      mediaLink: `${endpoint}/download/storage/v1/b/${o.bucket}/o/${enc}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: o.bucket,
      generation: o.generation,
      metageneration: '1',
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.data.length),
      md5Hash: createHash('md5').update(o.data).digest('base64'),
      crc32c: crc32cBase64(o.data),
      etag: `C${o.generation.slice(-8)}`,
      timeCreated: o.created,
      updated: o.created,
    };
  }

  function store(bucket: string, name: string, data: Buffer, contentType: string, uploadType: string): FakeGcsObject {
    if (corruptNext) {
      corruptNext = false;
      data = data.subarray(0, Math.max(0, data.length - 1));
    }
    const o: FakeGcsObject = {
      bucket,
      name,
      data,
      contentType: contentType || 'application/octet-stream',
      generation: String(generation++),
      created: new Date().toISOString(),
    };
    bucketOf(bucket).set(name, o);
    uploads.push({ bucket, name, uploadType });
    return o;
  }

  function takeFailure(route: string): number | undefined {
    const i = failures.findIndex((f) => f.route === 'any' || f.route === route);
    if (i < 0) return undefined;
    return failures.splice(i, 1)[0]!.status;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}${url.search}`);
    const body = await readBody(req);
    let m: RegExpMatchArray | null;

    if ((m = url.pathname.match(/^\/upload\/storage\/v1\/b\/([^/]+)\/o$/))) {
      const failed = takeFailure('upload');
      if (failed) return sendError(res, failed, 'backendError', `injected ${failed}`);
      const bucket = decodeURIComponent(m[1]!);
      const uploadType = q.get('uploadType') ?? '';
      if (method === 'POST' && uploadType === 'multipart') {
        const parts = parseMultipart(body, String(req.headers['content-type'] ?? ''));
        if (!parts || parts.length < 2) return sendError(res, 400, 'invalid', 'malformed multipart body');
        const meta = JSON.parse(parts[0]!.body.toString('utf8')) as { name?: string; contentType?: string };
        const name = q.get('name') ?? meta.name;
        if (!name) return sendError(res, 400, 'required', 'object name required');
        const o = store(bucket, name, parts[1]!.body, meta.contentType ?? parts[1]!.contentType, uploadType);
        return sendJson(res, 200, resource(o));
      }
      if (method === 'POST' && uploadType === 'media') {
        const name = q.get('name');
        if (!name) return sendError(res, 400, 'required', 'object name required');
        const o = store(bucket, name, body, String(req.headers['content-type'] ?? ''), uploadType);
        return sendJson(res, 200, resource(o));
      }
      if (method === 'POST' && uploadType === 'resumable') {
        const meta = body.length ? (JSON.parse(body.toString('utf8')) as { name?: string; contentType?: string }) : {};
        const name = q.get('name') ?? meta.name;
        if (!name) return sendError(res, 400, 'required', 'object name required');
        const id = randomUUID();
        sessions.set(id, {
          bucket,
          name,
          contentType: String(req.headers['x-upload-content-type'] ?? meta.contentType ?? ''),
          chunks: [],
          received: 0,
        });
        const location = `${endpoint}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
        res.writeHead(200, { location, 'content-length': 0 }).end();
        return;
      }
      if (method === 'PUT' && q.get('upload_id')) {
        const s = sessions.get(q.get('upload_id')!);
        if (!s) return sendError(res, 404, 'notFound', 'no such upload session');
        // Content-Range: "bytes 0-99/200" (a chunk), "bytes 0-*/*" (the rest, all in this request: the
        // client's single-chunk mode), or "bytes */200" (a status query).
        const range = String(req.headers['content-range'] ?? '');
        const rm = range.match(/^bytes (\*|(\d+)-(\d+|\*))\/(\*|\d+)$/);
        if (body.length > 0) {
          const start = rm?.[2] !== undefined ? Number(rm[2]) : s.received;
          if (start === s.received) {
            s.chunks.push(body);
            s.received += body.length;
          }
        }
        const total = rm && rm[4] !== '*' ? Number(rm[4]) : undefined;
        const final = range === '' || rm?.[3] === '*' || (total !== undefined && s.received >= total);
        if (final) {
          sessions.delete(q.get('upload_id')!);
          const o = store(s.bucket, s.name, Buffer.concat(s.chunks), s.contentType, 'resumable');
          return sendJson(res, 200, resource(o));
        }
        const headers: Record<string, string | number> = { 'content-length': 0 };
        if (s.received > 0) headers.range = `bytes=0-${s.received - 1}`;
        res.writeHead(308, headers).end();
        return;
      }
      unknownRoutes.push(`${method} ${url.pathname}?uploadType=${uploadType}`);
      return sendError(res, 400, 'invalid', `unsupported uploadType ${uploadType}`);
    }

    if ((m = url.pathname.match(/^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/))) {
      const bucket = decodeURIComponent(m[1]!);
      const name = decodeURIComponent(m[2]!);
      const o = buckets.get(bucket)?.get(name);
      if (method === 'DELETE') {
        const failed = takeFailure('delete');
        if (failed) return sendError(res, failed, 'backendError', `injected ${failed}`);
        if (!o) return sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
        buckets.get(bucket)!.delete(name);
        res.writeHead(204).end();
        return;
      }
      if (method === 'GET') {
        const failed = takeFailure('download');
        if (failed) return sendError(res, failed, 'backendError', `injected ${failed}`);
        if (!o) return sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
        if (q.get('alt') !== 'media') return sendJson(res, 200, resource(o));
        res
          .writeHead(200, {
            'content-type': o.contentType,
            'content-length': o.data.length,
            'x-goog-hash': `crc32c=${crc32cBase64(o.data)},md5=${createHash('md5').update(o.data).digest('base64')}`,
            'x-goog-stored-content-encoding': 'identity',
            'x-goog-stored-content-length': o.data.length,
            'x-goog-generation': o.generation,
          })
          .end(o.data);
        return;
      }
    }

    if (method === 'GET' && (m = url.pathname.match(/^\/storage\/v1\/b\/([^/]+)\/o$/))) {
      const failed = takeFailure('list');
      if (failed) return sendError(res, failed, 'backendError', `injected ${failed}`);
      const bucket = decodeURIComponent(m[1]!);
      const prefix = q.get('prefix') ?? '';
      const delimiter = q.get('delimiter');
      const max = Math.min(Number(q.get('maxResults') ?? 1000) || 1000, 1000);
      const start = q.get('pageToken') ?? '';
      const names = [...(buckets.get(bucket)?.keys() ?? [])].filter((n) => n.startsWith(prefix) && n > start).sort();
      const items: FakeGcsObject[] = [];
      const prefixes = new Set<string>();
      let next: string | undefined;
      for (const n of names) {
        if (items.length + prefixes.size >= max) {
          next = items.length ? items[items.length - 1]!.name : [...prefixes].pop();
          break;
        }
        const rest = n.slice(prefix.length);
        const cut = delimiter ? rest.indexOf(delimiter) : -1;
        if (delimiter && cut >= 0) prefixes.add(prefix + rest.slice(0, cut + delimiter.length));
        else items.push(buckets.get(bucket)!.get(n)!);
      }
      return sendJson(res, 200, {
        kind: 'storage#objects',
        items: items.map(resource),
        ...(prefixes.size ? { prefixes: [...prefixes] } : {}),
        ...(next ? { nextPageToken: next } : {}),
      });
    }

    unknownRoutes.push(`${method} ${url.pathname}`);
    sendError(res, 404, 'notFound', `fake gcs: no route for ${method} ${url.pathname}`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'backendError', String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  endpoint = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    port,
    requests,
    unknownRoutes,
    uploads,
    object: (bucket, name) => buckets.get(bucket)?.get(name),
    names: (bucket) => [...(buckets.get(bucket)?.keys() ?? [])].sort(),
    failNext: (status, route = 'any') => void failures.push({ status, route }),
    corruptNextUpload: () => {
      corruptNext = true;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function parseMultipart(body: Buffer, contentType: string): Array<{ contentType: string; body: Buffer }> | undefined {
  const bm = contentType.match(/boundary="?([^";]+)"?/);
  if (!bm) return undefined;
  const delimiter = Buffer.from(`--${bm[1]}`);
  const parts: Array<{ contentType: string; body: Buffer }> = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      let content = part.subarray(headerEnd + 4);
      // The CRLF before the next delimiter belongs to the delimiter, not to the content.
      if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
      const ct = headers.match(/content-type:\s*([^\r\n]+)/i)?.[1] ?? '';
      parts.push({ contentType: ct.trim(), body: content });
    }
    pos = next;
  }
  return parts;
}

function sendError(res: http.ServerResponse, status: number, reason: string, message: string): void {
  sendJson(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
