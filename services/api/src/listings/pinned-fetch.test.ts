import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KumoError } from '@kumo/shared';
import { openHttpsListing } from './https-listing';
import type { ListingFetch } from './pinned-fetch';
import { pinnedHttpsFetch } from './pinned-fetch';
import { assertPublicHost } from './public-host';

const refusal = async (p: Promise<unknown>): Promise<string | undefined> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return err instanceof KumoError ? err.code : undefined;
};

describe('listing hosts: IPv6 ranges that embed an IPv4 address', () => {
  const none = async (): Promise<string[]> => [];

  it('refuses ::/96, 64:ff9b::/96, 2002::/16 (and Teredo, NAT64 local-use) as literals and as DNS answers', async () => {
    for (const a of [
      '::a00:1',
      '::127.0.0.1',
      '::',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::8.8.8.8',
      '64:ff9b:1::a00:1',
      '2002:a00:1::1',
      '2002:c0a8:101::',
      '2001:0:4136:e378::1',
      '::ffff:a00:1',
      '::ffff:169.254.169.254',
    ]) {
      expect(await refusal(assertPublicHost('u', new URL(`https://[${a}]/l`), none)), a).toBe('LISTING_NOT_ALLOWED');
      expect(await refusal(assertPublicHost('u', new URL('https://sneaky.example/l'), async () => [a])), a).toBe(
        'LISTING_NOT_ALLOWED',
      );
    }
  });

  it('still lets public addresses through, and says which one it checked', async () => {
    expect(await assertPublicHost('u', new URL('https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/l'), none)).toBe(
      '2606:2800:21f:cb07:6820:80da:af6b:8b2c',
    );
    expect(
      await assertPublicHost('u', new URL('https://a.example/l'), async () => ['93.184.215.14', '2606:2800::1']),
    ).toBe('93.184.215.14');
    expect(await assertPublicHost('u', new URL('https://[::ffff:808:808]/l'), none)).toBe('::ffff:808:808');
  });
});

describe('listing fetches go to the address that was checked', () => {
  it('hands the checked address to the fetch, and asks DNS once per hop (a second answer is never used)', async () => {
    let asked = 0;
    // A rebinding name: public the first time it is asked, the metadata server after.
    const lookup = async (): Promise<string[]> => (asked++ === 0 ? ['93.184.215.14'] : ['169.254.169.254']);
    const seen: (string | undefined)[] = [];
    const f: ListingFetch = async (_url, _init, address) => {
      seen.push(address);
      return new Response('a/1.warc.gz\n', { status: 200 });
    };
    await openHttpsListing('u', new URL('https://rebind.example/l'), AbortSignal.timeout(5000), f, lookup);
    expect(seen).toEqual(['93.184.215.14']);
    expect(asked).toBe(1);
  });

  describe('over a real TLS connection', () => {
    let dir: string;
    let server: Server;
    let port: number;
    let ca: Buffer;
    const requests: { host: string | undefined; sni: string | false | null }[] = [];
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kumo-pinned-'));
      // A certificate for a name no resolver here knows: the fetch can only have reached the server by the address it was given.
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=listing.test',
          '-addext',
          'subjectAltName=DNS:listing.test',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      ca = readFileSync(join(dir, 'cert.pem'));
      server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (req, res) => {
        requests.push({ host: req.headers.host, sni: (req.socket as TLSSocket).servername });
        if (req.url === '/moved') res.writeHead(302, { location: 'https://elsewhere.test/l' }).end('moved');
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('a/1.warc.gz\nb/2.warc.gz\n');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    });

    it('connects to the given address with the name for SNI, the certificate and Host', async () => {
      const f = pinnedHttpsFetch({ ca });
      const init = { redirect: 'manual' as const, signal: AbortSignal.timeout(5000), headers: { accept: '*/*' } };
      const res = await f(new URL(`https://listing.test:${port}/warc.paths`), init, '127.0.0.1');
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('a/1.warc.gz\nb/2.warc.gz\n');
      expect(requests.at(-1)).toEqual({ host: `listing.test:${port}`, sni: 'listing.test' });
      // A redirect comes back as is, for openHttpsListing to check its next hop.
      const moved = await f(new URL(`https://listing.test:${port}/moved`), init, '127.0.0.1');
      expect(moved.status).toBe(302);
      expect(moved.headers.get('location')).toBe('https://elsewhere.test/l');
      // Another name than the certificate's, at the same address: TLS refuses it.
      await expect(f(new URL(`https://other.test:${port}/warc.paths`), init, '127.0.0.1')).rejects.toThrow();
    });
  });
});
