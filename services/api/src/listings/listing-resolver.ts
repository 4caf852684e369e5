import { createHash } from 'node:crypto';
import type { Storage } from '@google-cloud/storage';
import { createGcsClient, KumoError, type ErrorIssue, type JobSpec } from '@kumo/shared';
import { openGsListing } from './gs-listing';
import { openHttpsListing } from './https-listing';
import { dnsLookup } from './public-host';
import { decompressed, readCapped } from './listing-bytes';
import { listingLines } from './listing-lines';
import { listingLocation } from './listing-location';
import type { ListingOptions } from './listing-options';
import { openLocalListing } from './local-listing';

/** A listing job, ready to be stored: the spec with its count and hash, and the lines its tasks read. */
export interface ResolvedListing {
  spec: JobSpec;
  lines: string[];
}

/** Whether the spec's inputs come from a listing the API must read at submit. */
export function hasListing(spec: JobSpec): boolean {
  return spec.kind === 'extraction' && spec.source.listing !== undefined;
}

/**
 * Reads an extraction job's `source.listing` at submit, so the stored job is a record and a count like
 * any other (taskCount stays a pure function of the spec): `source.batches` becomes the number of lines
 * used (at most the `batches` submitted, a cap) and `source.listingSha256` their hash, so the job says
 * exactly what it ran. A refusal is a KumoError (LISTING_*) whose issue points at the listing.
 */
export class ListingResolver {
  private inFlight = 0;
  private storage: Promise<Storage> | undefined;

  constructor(private readonly opts: ListingOptions) {}

  /** undefined for a spec that has no listing. `path`: where the spec sits in the request, for issues. */
  async resolve(spec: JobSpec, path: (string | number)[] = []): Promise<ResolvedListing | undefined> {
    if (spec.kind !== 'extraction' || spec.source.listing === undefined) return undefined;
    const uri: string = spec.source.listing;
    if (this.inFlight >= this.opts.maxConcurrent) {
      throw new KumoError('RATE_LIMITED', `${this.inFlight} listings are being read already; submit again in a moment`);
    }
    this.inFlight++;
    try {
      const lines = listingLines(uri, await this.read(uri), spec.source.batches);
      const sha = createHash('sha256').update(lines.join('\n')).digest('hex');
      if (spec.source.listingSha256 !== undefined && spec.source.listingSha256 !== sha) {
        throw new KumoError(
          'LISTING_INVALID',
          `source.listing '${uri}' has changed: its lines hash to ${sha}, not the source.listingSha256 given`,
        );
      }
      return { spec: { ...spec, source: { ...spec.source, batches: lines.length, listingSha256: sha } }, lines };
    } catch (err) {
      if (err instanceof KumoError && err.code.startsWith('LISTING_'))
        throw withIssue(err, [...path, 'source', 'listing']);
      throw err;
    } finally {
      this.inFlight--;
    }
  }

  /** The listing's text bytes, from wherever it is, within the size and time limits. */
  private async read(uri: string): Promise<Buffer> {
    // Relative paths are the control plane's: against its working directory, as npm start runs it.
    const where = listingLocation(uri, process.cwd());
    const { maxBytes } = this.opts;
    if (where.kind === 'local') {
      const file = await openLocalListing(uri, where.path, this.opts.roots);
      try {
        return await decompressed(
          uri,
          await readCapped(uri, file.createReadStream({ autoClose: false }), maxBytes),
          maxBytes,
        );
      } finally {
        await file.close();
      }
    }
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    const body =
      where.kind === 'https'
        ? await openHttpsListing(
            uri,
            where.url,
            signal,
            this.opts.fetch,
            this.opts.allowPrivateHosts ? null : (this.opts.lookup ?? dnsLookup),
          )
        : openGsListing(uri, await this.gcs(), where.bucket, where.object, signal);
    try {
      return await decompressed(uri, await readCapped(uri, body, maxBytes), maxBytes);
    } catch (err) {
      if (signal.aborted && !(err instanceof KumoError)) {
        throw new KumoError(
          'LISTING_UNREADABLE',
          `source.listing '${uri}': not read within ${this.opts.timeoutMs / 1000} s`,
          { retryable: true, cause: err },
        );
      }
      throw err;
    }
  }

  private gcs(): Promise<Storage> {
    // Reads are cheap to repeat; a few quick retries, all inside the read's own time limit.
    this.storage ??= createGcsClient({
      ...(this.opts.projectId ? { projectId: this.opts.projectId } : {}),
      ...(this.opts.storageEndpoint ? { endpoint: this.opts.storageEndpoint } : {}),
      timeoutMs: this.opts.timeoutMs,
      maxRetries: 2,
      maxRetryDelayMs: 2000,
    });
    return this.storage;
  }
}

function withIssue(err: KumoError, path: (string | number)[]): KumoError {
  const issues: ErrorIssue[] = [{ path, message: err.message }];
  return new KumoError(err.code, err.message, { issues, retryable: err.retryable, cause: err.cause ?? err });
}
