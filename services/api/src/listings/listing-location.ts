import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KumoError } from '@kumo/shared';

/** Where a listing is: a file on the API's machine, an https:// URL, or a GCS object. */
export type ListingLocation =
  { kind: 'local'; path: string } | { kind: 'https'; url: URL } | { kind: 'gs'; bucket: string; object: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// GCS bucket names: 3-63 lowercase letters, digits, dashes, underscores and dots (222 with dots; rare).
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/**
 * What `source.listing` names. Only https:// (never plain http: a listing decides what the job reads),
 * gs://bucket/object, file:// and plain paths (relative ones against `cwd`); anything else is
 * LISTING_NOT_ALLOWED. Whether a local path may be read is local-listing.ts's to decide.
 */
export function listingLocation(uri: string, cwd: string): ListingLocation {
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  // A path with a colon in its first segment (`a:b/warc.paths`) reads as a scheme: write it `./a:b/...`.
  if (scheme === undefined) return { kind: 'local', path: resolve(cwd, uri) };
  if (scheme === 'file') {
    try {
      return { kind: 'local', path: fileURLToPath(uri) };
    } catch {
      throw new KumoError('LISTING_INVALID', `source.listing '${uri}' is not a valid file:// URL`);
    }
  }
  if (scheme === 'https') {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new KumoError('LISTING_INVALID', `source.listing '${uri}' is not a valid URL`);
    }
    if (url.username || url.password)
      throw new KumoError('LISTING_NOT_ALLOWED', 'source.listing: credentials in the URL are not allowed');
    return { kind: 'https', url };
  }
  if (scheme === 'gs') {
    const m = /^gs:\/\/([^/]+)\/(.+)$/i.exec(uri);
    if (!m || !BUCKET.test(m[1]!))
      throw new KumoError('LISTING_INVALID', `source.listing '${uri}' is not gs://bucket/object`);
    return { kind: 'gs', bucket: m[1]!, object: m[2]! };
  }
  throw new KumoError(
    'LISTING_NOT_ALLOWED',
    `source.listing: '${scheme}:' is not allowed; give an https:// URL, a gs:// object or a path on the control plane's machine`,
  );
}
