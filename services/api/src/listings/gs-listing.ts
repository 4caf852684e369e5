import type { Storage } from '@google-cloud/storage';
import { gcsHttpStatus, KumoError } from '@kumo/shared';

/**
 * Opens a gs:// listing: the object's bytes, as they arrive, through kumo's one GCS client setup
 * (createGcsClient: KUMO_STORAGE_ENDPOINT, the project). `signal` ends the read when it fires.
 */
export function openGsListing(
  uri: string,
  storage: Storage,
  bucket: string,
  object: string,
  signal: AbortSignal,
): AsyncIterable<Uint8Array> {
  const stream = storage.bucket(bucket).file(object).createReadStream();
  const stop = (): void => void stream.destroy(new Error('timed out'));
  signal.addEventListener('abort', stop, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', stop));
  return (async function* () {
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (err) {
      throw gsError(uri, err, signal.aborted);
    } finally {
      stream.destroy();
    }
  })();
}

function gsError(uri: string, err: unknown, timedOut: boolean): KumoError {
  const status = gcsHttpStatus(err);
  if (timedOut)
    return new KumoError('LISTING_UNREADABLE', `source.listing '${uri}': no answer in time`, {
      retryable: true,
      cause: err,
    });
  if (status === 404)
    return new KumoError('LISTING_UNREADABLE', `source.listing '${uri}': there is no such object`, { cause: err });
  if (status === 401 || status === 403)
    return new KumoError(
      'LISTING_UNREADABLE',
      `source.listing '${uri}': the control plane may not read it (HTTP ${status})`,
      { cause: err },
    );
  return new KumoError(
    'LISTING_UNREADABLE',
    `source.listing '${uri}': GCS could not be read${status ? ` (HTTP ${status})` : ''}`,
    { retryable: true, cause: err },
  );
}
