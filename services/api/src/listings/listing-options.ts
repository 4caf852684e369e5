import { resolve } from 'node:path';
import { LIMITS } from '@kumo/shared';
import type { ListingFetch } from './pinned-fetch';
import type { HostLookup } from './public-host';

/** How the API reads `source.listing` at submit (services/api/src/listings). */
export interface ListingOptions {
  /**
   * Folders a local listing may be read from (absolute). A path that is not inside one of them, once
   * `..` and symlinks are resolved, is LISTING_NOT_ALLOWED: a submitter never makes the API read
   * /etc/passwd. Default: the API's working directory.
   */
  roots: string[];
  /** KUMO_STORAGE_ENDPOINT: an `http://host:port` in place of GCS, for gs:// listings (tests, emulators). */
  storageEndpoint?: string;
  /** GOOGLE_CLOUD_PROJECT, passed to the GCS client when known. */
  projectId?: string;
  /** The longest an https:// or gs:// read may take. Default 30 s. */
  timeoutMs: number;
  /** The most bytes a listing may hold, read and once decompressed. Default 64 MiB. */
  maxBytes: number;
  /** Listings read at once by this API; one more is refused (429) rather than queued. Default 4. */
  maxConcurrent: number;
  /** How https:// listings are fetched (tests replace it). Default: node:https, pinned to the checked address. */
  fetch?: ListingFetch;
  /**
   * KUMO_LISTING_ALLOW_PRIVATE_HOSTS=1: https:// listings may come from internal addresses (a mirror on
   * the team's network). Default false: only public hosts (listings/public-host.ts).
   */
  allowPrivateHosts: boolean;
  /** How host names are resolved for that check (tests replace it). Default: the system resolver. */
  lookup?: HostLookup;
}

export function listingOptionsOf(partial: Partial<ListingOptions> = {}): ListingOptions {
  return {
    roots: [process.cwd()],
    timeoutMs: 30_000,
    maxBytes: LIMITS.listingBytesMax,
    maxConcurrent: 4,
    allowPrivateHosts: false,
    ...partial,
  };
}

/**
 * The listing options the environment sets: the working directory and KUMO_LISTING_ROOTS
 * (colon-separated folders, relative ones against the working directory) as roots; the GCS endpoint
 * and project as the rest of kumo reads them.
 */
export function listingOptionsFromEnv(
  env: {
    KUMO_LISTING_ROOTS?: string | undefined;
    KUMO_LISTING_ALLOW_PRIVATE_HOSTS?: string | undefined;
    KUMO_STORAGE_ENDPOINT?: string | undefined;
    GOOGLE_CLOUD_PROJECT?: string | undefined;
  },
  cwd = process.cwd(),
): Partial<ListingOptions> {
  const extra = (env.KUMO_LISTING_ROOTS ?? '').split(':').filter((r) => r.trim() !== '');
  return {
    roots: [cwd, ...extra.map((r) => resolve(cwd, r.trim()))],
    ...(env.KUMO_LISTING_ALLOW_PRIVATE_HOSTS === '1' ? { allowPrivateHosts: true } : {}),
    ...(env.KUMO_STORAGE_ENDPOINT ? { storageEndpoint: env.KUMO_STORAGE_ENDPOINT } : {}),
    ...(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {}),
  };
}
