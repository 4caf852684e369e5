/**
 * Where task logs, outputs, results and the checkpoint index go: GCS in production, a folder locally.
 * Keys are slash-separated relative paths (`jobs/<id>/tasks/<index>/log.txt`).
 */
export interface ArtifactStore {
  readonly kind: 'local' | 'gcs';
  put(key: string, body: Buffer | string, opts?: { contentType?: string }): Promise<void>;
  /** Undefined when the key does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** A URI naming the object (`gs://bucket/key`, `file:///...`). */
  uri(key: string): string;
}
