import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jobSpecSchema } from '@kumo/shared';
import { openHttpsListing } from './https-listing';
import { readCapped } from './listing-bytes';
import { listingOptionsFromEnv, listingOptionsOf } from './listing-options';
import { ListingResolver } from './listing-resolver';
import { code } from './rejection-code';

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
