import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobSpecSchema, KumoError } from '@kumo/shared';
import { openHttpsListing } from './https-listing';
import { decompressed, readCapped } from './listing-bytes';
import { listingLines } from './listing-lines';
import { listingLocation } from './listing-location';
import { listingOptionsFromEnv, listingOptionsOf } from './listing-options';
import { ListingResolver } from './listing-resolver';
import { openLocalListing } from './local-listing';

const code = async (p: Promise<unknown>): Promise<{ code: string; retryable: boolean }> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof KumoError)) throw new Error(`expected a KumoError, got ${String(err)}`);
  return { code: err.code, retryable: err.retryable };
};
const chunks = async function* (...parts: Buffer[]): AsyncIterable<Uint8Array> {
  yield* parts;
};

describe('listing lines', () => {
  it('trims, drops blank lines and # comments, reads CRLF, keeps order; a cap takes the first N', () => {
    const text = Buffer.from('\uFEFF# CC-MAIN-2023-50\r\n  a/1.warc.gz  \r\n\r\n#skip\nb/2.warc.gz\n\tc/3.warc\n');
    expect(listingLines('l', text)).toEqual(['a/1.warc.gz', 'b/2.warc.gz', 'c/3.warc']);
    expect(listingLines('l', text, 2)).toEqual(['a/1.warc.gz', 'b/2.warc.gz']);
    expect(listingLines('l', text, 5)).toEqual(['a/1.warc.gz', 'b/2.warc.gz', 'c/3.warc']);
  });

  it('refuses, saying which line: none at all, a NUL or control character, a line too long, not UTF-8', () => {
    const refused = (b: Buffer): string => {
      try {
        listingLines('l', b);
      } catch (e) {
        expect(e).toMatchObject({ code: 'LISTING_INVALID', retryable: false, status: 400 });
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(Buffer.from(''))).toMatch(/names no files/);
    expect(refused(Buffer.from('# only\n\n  \n'))).toMatch(/names no files/);
    expect(refused(Buffer.from('a\nb\0c\n'))).toMatch(/line 2 holds a control character/);
    expect(refused(Buffer.from(`a\n${'x'.repeat(1025)}\n`))).toMatch(/line 2 is longer than 1024/);
    expect(refused(Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a]))).toMatch(/not UTF-8/);
    // A line past a cap is not looked at: only the lines used must be sound.
    expect(listingLines('l', Buffer.from('a\nb\0\n'), 1)).toEqual(['a']);
  });
});

describe('listing bytes', () => {
  const text = Buffer.from('a/1.warc.gz\nb/2.warc.gz\n');

  it('gunzips by the magic bytes, whatever the name; passes plain text through', async () => {
    expect(await decompressed('plain-name.txt', gzipSync(text), 1024)).toEqual(text);
    expect(await decompressed('warc.paths.gz', text, 1024)).toEqual(text);
    // Two gzip members one after the other (what `cat a.gz b.gz` makes) are one listing.
    expect(await decompressed('x', Buffer.concat([gzipSync('a\n'), gzipSync('b\n')]), 1024)).toEqual(
      Buffer.from('a\nb\n'),
    );
  });

  it('refuses more than the limit, read or decompressed, and gzip that does not decompress', async () => {
    expect(await code(readCapped('x', chunks(Buffer.alloc(600), Buffer.alloc(600)), 1000))).toEqual({
      code: 'LISTING_INVALID',
      retryable: false,
    });
    expect(await code(decompressed('x', gzipSync(Buffer.alloc(5000, 0x61)), 1000))).toEqual({
      code: 'LISTING_INVALID',
      retryable: false,
    });
    expect(await code(decompressed('x', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), 1000))).toEqual({
      code: 'LISTING_INVALID',
      retryable: false,
    });
    expect(await readCapped('x', chunks(Buffer.alloc(500), Buffer.alloc(500)), 1000)).toHaveLength(1000);
  });
});

describe('listing location', () => {
  it('https, gs and paths (relative to the working directory) are listings; plain http and other schemes are not allowed', () => {
    expect(
      listingLocation('https://data.commoncrawl.org/crawl-data/CC-MAIN-2023-50/warc.paths.gz', '/w'),
    ).toMatchObject({ kind: 'https' });
    expect(listingLocation('gs://kumo-data/lists/warc.paths.gz', '/w')).toEqual({
      kind: 'gs',
      bucket: 'kumo-data',
      object: 'lists/warc.paths.gz',
    });
    expect(listingLocation('lists/warc.paths', '/w')).toEqual({ kind: 'local', path: '/w/lists/warc.paths' });
    expect(listingLocation('/data/warc.paths', '/w')).toEqual({ kind: 'local', path: '/data/warc.paths' });
    expect(listingLocation('file:///data/warc.paths', '/w')).toEqual({ kind: 'local', path: '/data/warc.paths' });
    for (const uri of ['http://data.commoncrawl.org/x', 'ftp://h/x', 's3://b/x', 'HTTP://h/x'])
      expect(() => listingLocation(uri, '/w')).toThrow(expect.objectContaining({ code: 'LISTING_NOT_ALLOWED' }));
    expect(() => listingLocation('https://user:pw@h/x', '/w')).toThrow(
      expect.objectContaining({ code: 'LISTING_NOT_ALLOWED' }),
    );
    for (const uri of ['gs://', 'gs://bucket', 'gs://bucket/', 'gs://B_/x'])
      expect(() => listingLocation(uri, '/w')).toThrow(expect.objectContaining({ code: 'LISTING_INVALID' }));
  });

  it('KUMO_LISTING_ROOTS adds folders (relative ones against the working directory) to the working directory', () => {
    expect(listingOptionsFromEnv({ KUMO_LISTING_ROOTS: '/data/lists::.kumo/demo' }, '/w').roots).toEqual([
      '/w',
      '/data/lists',
      '/w/.kumo/demo',
    ]);
    expect(listingOptionsFromEnv({}, '/w')).toEqual({ roots: ['/w'] });
    expect(
      listingOptionsFromEnv({ KUMO_STORAGE_ENDPOINT: 'http://127.0.0.1:4443', GOOGLE_CLOUD_PROJECT: 'p' }, '/w'),
    ).toEqual({ roots: ['/w'], storageEndpoint: 'http://127.0.0.1:4443', projectId: 'p' });
  });
});

describe('local listings: only inside the roots', () => {
  let tmp: string;
  let root: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-listing-unit-'));
    root = join(tmp, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    mkdirSync(join(root, '.kumo'));
    mkdirSync(join(tmp, 'outside'));
    writeFileSync(join(root, 'sub', 'warc.paths'), 'a\n');
    writeFileSync(join(root, '.kumo', 'admin-token'), 'secret\n');
    writeFileSync(join(tmp, 'outside', 'warc.paths'), 'a\n');
    symlinkSync(join(tmp, 'outside', 'warc.paths'), join(root, 'escape.paths'));
    symlinkSync('/etc', join(root, 'etc'));
    symlinkSync(join(root, 'sub', 'warc.paths'), join(root, 'inside.paths'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const opened = async (path: string, roots = [root]): Promise<string> => {
    const h = await openLocalListing(path, path, roots);
    try {
      return (await h.readFile()).toString();
    } finally {
      await h.close();
    }
  };

  it('reads a file inside a root, also through a symlink that stays inside', async () => {
    expect(await opened(join(root, 'sub', 'warc.paths'))).toBe('a\n');
    expect(await opened(join(root, 'inside.paths'))).toBe('a\n');
  });

  it('refuses what is outside once .. and symlinks are resolved, and hidden files below a root', async () => {
    for (const p of [
      '/etc/hostname',
      join(root, '..', 'outside', 'warc.paths'),
      join(root, 'escape.paths'),
      join(root, 'etc', 'hostname'),
      join(root, '.kumo', 'admin-token'),
    ]) {
      expect(await code(openLocalListing(p, p, [root])), p).toEqual({ code: 'LISTING_NOT_ALLOWED', retryable: false });
    }
    // A hidden folder named as a root of its own is readable.
    expect(await opened(join(root, '.kumo', 'admin-token'), [root, join(root, '.kumo')])).toBe('secret\n');
  });

  it('a missing file inside a root, or a folder, is unreadable; a missing file outside is not even looked at', async () => {
    expect(await code(openLocalListing('x', join(root, 'no-such.paths'), [root]))).toEqual({
      code: 'LISTING_UNREADABLE',
      retryable: false,
    });
    expect(await code(openLocalListing('x', join(root, 'sub'), [root]))).toEqual({
      code: 'LISTING_UNREADABLE',
      retryable: false,
    });
    expect(await code(openLocalListing('x', '/no/such/file', [root]))).toEqual({
      code: 'LISTING_NOT_ALLOWED',
      retryable: false,
    });
  });
});

describe('https listings', () => {
  const answer = (
    status: number,
    body: string | Uint8Array<ArrayBuffer> = '',
    headers: Record<string, string> = {},
  ): Response => new Response(status >= 300 && status < 400 ? null : body, { status, headers });
  const fakeFetch = (answers: Record<string, () => Response>): typeof fetch =>
    (async (url: string | URL | Request) => {
      const a = answers[String(url)];
      if (!a) throw new TypeError('fetch failed');
      return a();
    }) as typeof fetch;
  const signal = (): AbortSignal => AbortSignal.timeout(5000);
  /** No DNS here: *.example names are public, *.internal ones resolve to a private address. */
  const lookup = async (host: string): Promise<string[]> => {
    if (host.endsWith('.example')) return ['93.184.215.14'];
    if (host.endsWith('.internal')) return ['10.128.0.5'];
    if (host === 'dual.test') return ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', '::ffff:192.168.1.20'];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };

  it('follows redirects to https only; a server error is retryable, a 404 is not, no connection is', async () => {
    const f = fakeFetch({
      'https://a.example/l': () => answer(302, '', { location: 'https://b.example/l.gz' }),
      'https://b.example/l.gz': () => answer(200, 'x/1.warc.gz\n'),
      'https://a.example/down': () => answer(302, '', { location: 'http://b.example/l.gz' }),
      'https://a.example/503': () => answer(503),
      'https://a.example/404': () => answer(404),
    });
    const body = await openHttpsListing('u', new URL('https://a.example/l'), signal(), f, lookup);
    expect((await readCapped('u', body, 1000)).toString()).toBe('x/1.warc.gz\n');
    expect(await code(openHttpsListing('u', new URL('https://a.example/down'), signal(), f, lookup))).toEqual({
      code: 'LISTING_NOT_ALLOWED',
      retryable: false,
    });
    expect(await code(openHttpsListing('u', new URL('https://a.example/503'), signal(), f, lookup))).toEqual({
      code: 'LISTING_UNREADABLE',
      retryable: true,
    });
    expect(await code(openHttpsListing('u', new URL('https://a.example/404'), signal(), f, lookup))).toEqual({
      code: 'LISTING_UNREADABLE',
      retryable: false,
    });
    expect(await code(openHttpsListing('u', new URL('https://nowhere.example/l'), signal(), f, lookup))).toEqual({
      code: 'LISTING_UNREADABLE',
      retryable: true,
    });
  });

  it('refuses internal hosts, by address or by what the name resolves to, and redirects to them; KUMO_LISTING_ALLOW_PRIVATE_HOSTS lets them through', async () => {
    const fetched: string[] = [];
    const f = (async (url: string | URL | Request) => {
      fetched.push(String(url));
      if (String(url) === 'https://a.example/to-inside') return answer(302, '', { location: 'https://10.0.0.7/l' });
      return answer(200, 'x/1.warc.gz\n');
    }) as typeof fetch;
    const refused = { code: 'LISTING_NOT_ALLOWED', retryable: false };
    for (const u of [
      'https://127.0.0.1/l',
      'https://10.1.2.3/l',
      'https://169.254.169.254/l',
      'https://[::1]/l',
      'https://[fd00::1]/l',
      'https://[::ffff:172.16.0.1]/l',
      'https://metadata.internal/l',
      'https://dual.test/l',
    ]) {
      expect(await code(openHttpsListing('u', new URL(u), signal(), f, lookup)), u).toEqual(refused);
    }
    expect(await code(openHttpsListing('u', new URL('https://a.example/to-inside'), signal(), f, lookup))).toEqual(
      refused,
    );
    // Nothing was fetched from inside: only the public hop that redirected.
    expect(fetched).toEqual(['https://a.example/to-inside']);
    // A name that does not resolve: retry later, maybe.
    expect(await code(openHttpsListing('u', new URL('https://gone.test/l'), signal(), f, lookup))).toEqual({
      code: 'LISTING_UNREADABLE',
      retryable: true,
    });
    // Allowed: a mirror on the team's network.
    const allowed = new ListingResolver(
      listingOptionsOf({ fetch: f, lookup, ...listingOptionsFromEnv({ KUMO_LISTING_ALLOW_PRIVATE_HOSTS: '1' }) }),
    );
    const spec = jobSpecSchema.parse({
      kind: 'extraction',
      name: 'n',
      source: { snapshot: 'S', listing: 'https://mirror.internal/warc.paths' },
      run: { builtin: 'noop' },
    });
    expect((await allowed.resolve(spec))?.lines).toEqual(['x/1.warc.gz']);
    const strict = new ListingResolver(listingOptionsOf({ fetch: f, lookup }));
    expect(await strict.resolve(spec).catch((e: unknown) => e)).toMatchObject({
      code: 'LISTING_NOT_ALLOWED',
      issues: [{ path: ['source', 'listing'] }],
    });
  });

  it('the resolver sets batches and listingSha256, caps with batches, checks a listingSha256 given, and points issues at source.listing', async () => {
    const f = fakeFetch({
      'https://a.example/warc.paths.gz': () => answer(200, new Uint8Array(gzipSync('# x\na\nb\nc\n'))),
    });
    const resolver = new ListingResolver(listingOptionsOf({ fetch: f, lookup }));
    const spec = (source: Record<string, unknown>) =>
      jobSpecSchema.parse({
        kind: 'extraction',
        name: 'n',
        source: { snapshot: 'S', listing: 'https://a.example/warc.paths.gz', ...source },
        run: { builtin: 'noop' },
      });
    const all = await resolver.resolve(spec({}));
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    expect(all?.lines).toEqual(['a', 'b', 'c']);
    expect(all?.spec).toMatchObject({
      source: { snapshot: 'S', listing: 'https://a.example/warc.paths.gz', batches: 3, listingSha256: sha('a\nb\nc') },
    });
    expect((await resolver.resolve(spec({ batches: 2 })))?.spec).toMatchObject({
      source: { batches: 2, listingSha256: sha('a\nb') },
    });
    expect((await resolver.resolve(spec({ listingSha256: sha('a\nb\nc') })))?.lines).toHaveLength(3);
    const changed = await resolver
      .resolve(spec({ listingSha256: sha('a') }), ['stages', 0, 'job'])
      .catch((e: unknown) => e);
    expect(changed).toMatchObject({
      code: 'LISTING_INVALID',
      issues: [{ path: ['stages', 0, 'job', 'source', 'listing'] }],
    });
    expect(
      await resolver.resolve(
        jobSpecSchema.parse({
          kind: 'extraction',
          name: 'n',
          source: { snapshot: 'S', batches: 3 },
          run: { builtin: 'noop' },
        }),
      ),
    ).toBeUndefined();
  });
});
