import type { Storage } from '@google-cloud/storage';

export interface GcsClientOptions {
  /** GOOGLE_CLOUD_PROJECT; passed when known, so the client never has to discover it. */
  projectId?: string;
  /**
   * KUMO_STORAGE_ENDPOINT: an `http://host:port` that replaces storage.googleapis.com (tests,
   * emulators). Requests to it carry no credentials (the client's default for a custom endpoint).
   */
  endpoint?: string;
  /** Limit per HTTP request. Default 60 s. */
  timeoutMs?: number;
  /** Retries of a failed request (5xx, 429, resets). Default 3. */
  maxRetries?: number;
  /** Longest wait between retries. Default 64 s (the client's own default); at least 1 s (the upload retry's floor). */
  maxRetryDelayMs?: number;
}

/**
 * The one place a @google-cloud/storage client is built (the artifact store, the API's listing reader).
 * The package is loaded on first use, so that importing @kumo/shared stays cheap for the services that
 * never touch GCS.
 *
 * Every request is retried even without a generation precondition (the RetryAlways strategy): kumo's
 * writes put whole objects under keys one writer owns, and its reads change nothing.
 */
export async function createGcsClient(opts: GcsClientOptions): Promise<Storage> {
  const mod = await import('@google-cloud/storage');
  return new mod.Storage({
    ...(opts.projectId ? { projectId: opts.projectId } : {}),
    // A full URL: the client builds `${apiEndpoint}/storage/v1` and `${apiEndpoint}/upload/...` from
    // it. (STORAGE_EMULATOR_HOST would set only the first, so uploads would still go to Google.)
    ...(opts.endpoint ? { apiEndpoint: opts.endpoint.replace(/\/$/, '') } : {}),
    timeout: opts.timeoutMs ?? 60_000,
    retryOptions: {
      // The client reads maxRetries 0 as "unset" (and retries 3 times): turn retrying off instead.
      autoRetry: (opts.maxRetries ?? 3) > 0,
      maxRetries: opts.maxRetries ?? 3,
      // Seconds. save() retries with async-retry, whose first wait is 1 s and which throws when the
      // ceiling is below that.
      maxRetryDelay: Math.max(1, (opts.maxRetryDelayMs ?? 64_000) / 1000),
      idempotencyStrategy: mod.IdempotencyStrategy.RetryAlways,
    },
  });
}

/** The HTTP status of a failed GCS call, when it has one (the client puts it in `code`). */
export function gcsHttpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}
