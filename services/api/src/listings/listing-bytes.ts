import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { KumoError } from '@kumo/shared';

const gunzipAsync = promisify(gunzip);

/** Reads a listing's bytes whole, refusing more than `maxBytes` as soon as they have arrived. */
export async function readCapped(uri: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge(uri, maxBytes);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks, size);
}

/**
 * The listing's text bytes: gunzipped when it starts with gzip's magic bytes (1f 8b), whatever its
 * name says; at most `maxBytes` once decompressed (a small .gz can hold a great deal). Decompression
 * runs off the event loop.
 */
export async function decompressed(uri: string, raw: Buffer, maxBytes: number): Promise<Buffer> {
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(uri, maxBytes);
    throw new KumoError('LISTING_INVALID', `source.listing '${uri}' starts like gzip but does not decompress`, {
      cause: err,
    });
  }
}

function tooLarge(uri: string, maxBytes: number): KumoError {
  return new KumoError(
    'LISTING_INVALID',
    `source.listing '${uri}' holds more than ${Math.round(maxBytes / 1024 / 1024)} MiB`,
  );
}
