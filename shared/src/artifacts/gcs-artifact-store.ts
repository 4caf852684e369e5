import type { Bucket } from '@google-cloud/storage';
import { KumoError } from '../errors';
import { checkArtifactKey, checkArtifactPrefix } from './artifact-key';
import type { ArtifactStore } from './artifact-store';
import { createGcsClient, gcsHttpStatus as httpCode } from './gcs-client';

export interface GcsArtifactStoreOptions {
  /** The artifacts bucket (infra/ output `artifacts_bucket`). */
  bucket: string;
  /** GOOGLE_CLOUD_PROJECT. Always passed, so the client never has to discover it. */
  projectId: string;
  /**
   * KUMO_STORAGE_ENDPOINT: an `http://host:port` that replaces storage.googleapis.com (tests,
   * emulators). Requests to it carry no credentials (the client's default for a custom endpoint).
   * Default: the real API with application default credentials.
   */
  endpoint?: string;
  /** Prepended to every key inside the bucket, e.g. `kumo/`. Default '' (keys are object names). */
  prefix?: string;
  /** Limit per HTTP request. Default 60 s. */
  timeoutMs?: number;
  /** Retries of a failed request (5xx, 429, resets). Default 3. */
  maxRetries?: number;
  /** Longest wait between retries. Default 64 s (the client's own default); at least 1 s (the upload retry's floor). */
  maxRetryDelayMs?: number;
  /** Bodies at least this large go up as resumable uploads; smaller ones in one multipart request. Default 8 MiB. */
  resumableThresholdBytes?: number;
}

/**
 * Artifacts in a GCS bucket: the production side of the artifact seam. Uploads are checked by the
 * client against the crc32c the server reports; a mismatch deletes the object and fails the put.
 *
 * Every put is retried even without a generation precondition (the RetryAlways strategy, see
 * gcs-client.ts): a put writes a whole object under a key that one writer owns, so repeating it leaves
 * the same result.
 */
export class GcsArtifactStore implements ArtifactStore {
  readonly kind = 'gcs' as const;
  readonly bucketName: string;
  private readonly prefix: string;
  private readonly opts: GcsArtifactStoreOptions;
  private bucket: Promise<Bucket> | undefined;

  constructor(opts: GcsArtifactStoreOptions) {
    if (!opts.bucket) throw new KumoError('CONFIG_INVALID', 'GcsArtifactStore needs a bucket');
    if (!opts.projectId) throw new KumoError('CONFIG_INVALID', 'GcsArtifactStore needs a projectId');
    if (opts.endpoint && !/^https?:\/\/[^/]+\/?$/.test(opts.endpoint)) {
      throw new KumoError('CONFIG_INVALID', 'KUMO_STORAGE_ENDPOINT must be http://host:port');
    }
    const prefix = opts.prefix ?? '';
    if (prefix !== '' && !prefix.endsWith('/'))
      throw new KumoError('CONFIG_INVALID', "an artifact prefix ends with '/'");
    if (prefix !== '') checkArtifactPrefix(prefix);
    this.opts = opts;
    this.bucketName = opts.bucket;
    this.prefix = prefix;
  }

  async put(key: string, body: Buffer | string, opts: { contentType?: string } = {}): Promise<void> {
    const name = this.objectName(key);
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    const bucket = await this.getBucket();
    try {
      await bucket.file(name).save(data, {
        resumable: data.length >= (this.opts.resumableThresholdBytes ?? 8 * 1024 * 1024),
        contentType:
          opts.contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream'),
        validation: 'crc32c',
      });
    } catch (err) {
      throw storeError('put', key, err);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    const name = this.objectName(key);
    const bucket = await this.getBucket();
    try {
      const [data] = await bucket.file(name).download({ validation: 'crc32c' });
      return data;
    } catch (err) {
      if (httpCode(err) === 404) return undefined;
      throw storeError('get', key, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkArtifactPrefix(prefix);
    const bucket = await this.getBucket();
    try {
      const [files] = await bucket.getFiles({ prefix: this.prefix + prefix, autoPaginate: true });
      return files.map((f) => f.name.slice(this.prefix.length)).sort();
    } catch (err) {
      throw storeError('list', prefix, err);
    }
  }

  async delete(key: string): Promise<void> {
    const name = this.objectName(key);
    const bucket = await this.getBucket();
    try {
      await bucket.file(name).delete({ ignoreNotFound: true });
    } catch (err) {
      throw storeError('delete', key, err);
    }
  }

  uri(key: string): string {
    return `gs://${this.bucketName}/${this.objectName(key)}`;
  }

  private objectName(key: string): string {
    return this.prefix + checkArtifactKey(key);
  }

  private getBucket(): Promise<Bucket> {
    this.bucket ??= createGcsClient(this.opts).then((storage) => storage.bucket(this.bucketName));
    return this.bucket;
  }
}

/** Codes only: the HTTP status, the client's own integrity codes, socket codes. */
function storeError(op: string, key: string, err: unknown): KumoError {
  const status = httpCode(err);
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
  const details = { op, key, httpStatus: status, errorCode: code };
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new KumoError('PROVIDER_REJECTED', `GCS ${op} refused`, { cause: err, details });
  }
  // 5xx, 408, 429, a crc32c/md5 mismatch (FILE_NO_UPLOAD, CONTENT_DOWNLOAD_MISMATCH), a reset socket:
  // all pass with a retry.
  return new KumoError('PROVIDER_UNAVAILABLE', `GCS ${op} failed`, { cause: err, retryable: true, details });
}
