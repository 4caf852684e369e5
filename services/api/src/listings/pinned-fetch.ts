import type { LookupAddress, LookupOptions } from 'node:dns';
import { request, type RequestOptions } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';

/**
 * One GET of an https:// listing hop. `address`: where to connect, the address the host check passed
 * (undefined when there was no check: private hosts allowed). Never follows redirects itself.
 */
export type ListingFetch = (
  url: URL,
  init: { redirect: 'manual'; signal: AbortSignal; headers: Record<string, string> },
  address?: string,
) => Promise<Response>;

/** Statuses whose Response must have no body. */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * The default ListingFetch: node:https, connected to `address` when given, with no second DNS query,
 * while the name stays what the certificate is checked against (SNI) and what the Host header says.
 * `ca`: certificates to trust besides the system's (tests, private mirrors).
 */
export function pinnedHttpsFetch(tls: { ca?: string | Buffer } = {}): ListingFetch {
  return (url, init, address) =>
    new Promise<Response>((resolve, reject) => {
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const options: RequestOptions = {
        method: 'GET',
        host,
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        headers: init.headers,
        signal: init.signal,
        // A connection of its own: a pooled socket could be one opened to another answer for the name.
        agent: false,
        ...(isIP(host) ? {} : { servername: host }),
        ...(address ? { lookup: pinnedLookup(address) } : {}),
        ...(tls.ca ? { ca: tls.ca } : {}),
      };
      const req = request(options, (res) => {
        const status = res.statusCode ?? 0;
        const headers = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
          headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        if (NO_BODY.has(status) || (status >= 300 && status < 400)) {
          res.resume();
          resolve(new Response(null, { status, headers }));
          return;
        }
        resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers }));
      });
      req.on('error', reject);
      req.end();
    });
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` that answers every question with `address`: the socket connects there and nowhere else. */
function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return (_hostname: string, options: LookupOptions, callback: LookupCallback) => {
    // Node asks for every address when it races families (autoSelectFamily, the default on Node 20).
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
