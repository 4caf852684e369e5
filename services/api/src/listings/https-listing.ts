import { KumoError } from '@kumo/shared';
import { pinnedHttpsFetch, type ListingFetch } from './pinned-fetch';
import { assertPublicHost, type HostLookup } from './public-host';

const MAX_REDIRECTS = 5;

/**
 * Opens an https:// listing: its body, as it arrives. Redirects are followed by hand, at most 5, each
 * to https:// only (fetch would follow one to plain http) and, unless `lookupHost` is null (private
 * hosts allowed), each to a public host, connected to at the very address that was checked. `signal`
 * bounds the whole read, body included.
 */
export async function openHttpsListing(
  uri: string,
  url: URL,
  signal: AbortSignal,
  fetchImpl: ListingFetch = pinnedHttpsFetch(),
  lookupHost: HostLookup | null,
): Promise<AsyncIterable<Uint8Array>> {
  let at = url;
  for (let hops = 0; ; hops++) {
    const address = lookupHost ? await assertPublicHost(uri, at, lookupHost) : undefined;
    let res: Response;
    try {
      res = await fetchImpl(at, { redirect: 'manual', signal, headers: { accept: '*/*' } }, address);
    } catch (err) {
      throw new KumoError(
        'LISTING_UNREADABLE',
        `source.listing '${uri}': ${signal.aborted ? 'no answer in time' : 'the server could not be reached'}`,
        { retryable: true, cause: err },
      );
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel().catch(() => undefined);
      const next = new URL(res.headers.get('location')!, at);
      if (next.protocol !== 'https:')
        throw new KumoError(
          'LISTING_NOT_ALLOWED',
          `source.listing '${uri}' redirects to ${next.protocol}//, not https://`,
        );
      if (hops + 1 >= MAX_REDIRECTS)
        throw new KumoError('LISTING_UNREADABLE', `source.listing '${uri}': more than ${MAX_REDIRECTS} redirects`);
      at = next;
      continue;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      // The server's own trouble passes with time; a 404 or 403 does not.
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new KumoError('LISTING_UNREADABLE', `source.listing '${uri}': the server answered ${res.status}`, {
        retryable,
      });
    }
    return res.body;
  }
}
