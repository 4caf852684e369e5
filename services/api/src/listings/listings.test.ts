import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decompressed, readCapped } from './listing-bytes';
import { listingLines } from './listing-lines';
import { listingLocation } from './listing-location';
import { listingOptionsFromEnv } from './listing-options';
import { openLocalListing } from './local-listing';
import { code } from './rejection-code';

const chunks = async function* (...parts: Buffer[]): AsyncIterable<Uint8Array> {
  yield* parts;
};

describe('listing lines', () => {
  it('trims, drops blank lines and # comments, reads CRLF, keeps order; a cap takes the first N', () => {
    const text = Buffer.from('\uFEFF# CC-MAIN-2023-50\r\n  a/1.warc.gz  \r\n\r\n#skip\nb/2.warc.gz\n\tc/3.warc\n');
    expect(listingLines('l', text)).toEqual(['a/1.warc.gz', 'b/2.warc.gz', 'c/3.warc']);
    expect(listingLines('l', text, 2)).toEqual(['a/1.warc.gz', 'b/2.warc.gz']);
    expect(listingLines('l', text, 5)).toEqual(['a/1.warc.gz', 'b/2.warc.gz', 'c/3.warc']);
  });

  it('refuses, saying which line: none at all, a NUL or control character, a line too long, not UTF-8', () => {
    const refused = (b: Buffer): string => {
      try {
        listingLines('l', b);
      } catch (e) {
        expect(e).toMatchObject({ code: 'LISTING_INVALID', retryable: false, status: 400 });
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(Buffer.from(''))).toMatch(/names no files/);
    expect(refused(Buffer.from('# only\n\n  \n'))).toMatch(/names no files/);
    expect(refused(Buffer.from('a\nb\0c\n'))).toMatch(/line 2 holds a control character/);
    expect(refused(Buffer.from(`a\n${'x'.repeat(1025)}\n`))).toMatch(/line 2 is longer than 1024/);
    expect(refused(Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a]))).toMatch(/not UTF-8/);
    // A line past a cap is not looked at: only the lines used must be sound.
    expect(listingLines('l', Buffer.from('a\nb\0\n'), 1)).toEqual(['a']);
  });
});

describe('listing bytes', () => {
  const text = Buffer.from('a/1.warc.gz\nb/2.warc.gz\n');

  it('gunzips by the magic bytes, whatever the name; passes plain text through', async () => {
    expect(await decompressed('plain-name.txt', gzipSync(text), 1024)).toEqual(text);
    expect(await decompressed('warc.paths.gz', text, 1024)).toEqual(text);
    // Two gzip members one after the other (what `cat a.gz b.gz` makes) are one listing.
    expect(await decompressed('x', Buffer.concat([gzipSync('a\n'), gzipSync('b\n')]), 1024)).toEqual(
      Buffer.from('a\nb\n'),
    );
  });

  it('refuses more than the limit, read or decompressed, and gzip that does not decompress', async () => {
    expect(await code(readCapped('x', chunks(Buffer.alloc(600), Buffer.alloc(600)), 1000))).toEqual({
      code: 'LISTING_INVALID',
      retryable: false,
    });
    expect(await code(decompressed('x', gzipSync(Buffer.alloc(5000, 0x61)), 1000))).toEqual({
      code: 'LISTING_INVALID',
      retryable: false,
    });
    expect(await code(decompressed('x', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), 1000))).toEqual({
      code: 'LISTING_INVALID',
      retryable: false,
    });
    expect(await readCapped('x', chunks(Buffer.alloc(500), Buffer.alloc(500)), 1000)).toHaveLength(1000);
  });
});

describe('listing location', () => {
  it('https, gs and paths (relative to the working directory) are listings; plain http and other schemes are not allowed', () => {
    expect(
      listingLocation('https://data.commoncrawl.org/crawl-data/CC-MAIN-2023-50/warc.paths.gz', '/w'),
    ).toMatchObject({ kind: 'https' });
    expect(listingLocation('gs://kumo-data/lists/warc.paths.gz', '/w')).toEqual({
      kind: 'gs',
      bucket: 'kumo-data',
      object: 'lists/warc.paths.gz',
    });
    expect(listingLocation('lists/warc.paths', '/w')).toEqual({ kind: 'local', path: '/w/lists/warc.paths' });
    expect(listingLocation('/data/warc.paths', '/w')).toEqual({ kind: 'local', path: '/data/warc.paths' });
    expect(listingLocation('file:///data/warc.paths', '/w')).toEqual({ kind: 'local', path: '/data/warc.paths' });
    for (const uri of ['http://data.commoncrawl.org/x', 'ftp://h/x', 's3://b/x', 'HTTP://h/x'])
      expect(() => listingLocation(uri, '/w')).toThrow(expect.objectContaining({ code: 'LISTING_NOT_ALLOWED' }));
    expect(() => listingLocation('https://user:pw@h/x', '/w')).toThrow(
      expect.objectContaining({ code: 'LISTING_NOT_ALLOWED' }),
    );
    for (const uri of ['gs://', 'gs://bucket', 'gs://bucket/', 'gs://B_/x'])
      expect(() => listingLocation(uri, '/w')).toThrow(expect.objectContaining({ code: 'LISTING_INVALID' }));
  });

  it('KUMO_LISTING_ROOTS adds folders (relative ones against the working directory) to the working directory', () => {
    expect(listingOptionsFromEnv({ KUMO_LISTING_ROOTS: '/data/lists::.kumo/demo' }, '/w').roots).toEqual([
      '/w',
      '/data/lists',
      '/w/.kumo/demo',
    ]);
    expect(listingOptionsFromEnv({}, '/w')).toEqual({ roots: ['/w'] });
    expect(
      listingOptionsFromEnv({ KUMO_STORAGE_ENDPOINT: 'http://127.0.0.1:4443', GOOGLE_CLOUD_PROJECT: 'p' }, '/w'),
    ).toEqual({ roots: ['/w'], storageEndpoint: 'http://127.0.0.1:4443', projectId: 'p' });
  });
});

describe('local listings: only inside the roots', () => {
  let tmp: string;
  let root: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-listing-unit-'));
    root = join(tmp, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    mkdirSync(join(root, '.kumo'));
    mkdirSync(join(tmp, 'outside'));
    writeFileSync(join(root, 'sub', 'warc.paths'), 'a\n');
    writeFileSync(join(root, '.kumo', 'admin-token'), 'secret\n');
    writeFileSync(join(tmp, 'outside', 'warc.paths'), 'a\n');
    symlinkSync(join(tmp, 'outside', 'warc.paths'), join(root, 'escape.paths'));
    symlinkSync('/etc', join(root, 'etc'));
    symlinkSync(join(root, 'sub', 'warc.paths'), join(root, 'inside.paths'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const opened = async (path: string, roots = [root]): Promise<string> => {
    const h = await openLocalListing(path, path, roots);
    try {
      return (await h.readFile()).toString();
    } finally {
      await h.close();
    }
  };

  it('reads a file inside a root, also through a symlink that stays inside', async () => {
    expect(await opened(join(root, 'sub', 'warc.paths'))).toBe('a\n');
    expect(await opened(join(root, 'inside.paths'))).toBe('a\n');
  });

  it('refuses what is outside once .. and symlinks are resolved, and hidden files below a root', async () => {
    for (const p of [
      '/etc/hostname',
      join(root, '..', 'outside', 'warc.paths'),
      join(root, 'escape.paths'),
      join(root, 'etc', 'hostname'),
      join(root, '.kumo', 'admin-token'),
    ]) {
      expect(await code(openLocalListing(p, p, [root])), p).toEqual({ code: 'LISTING_NOT_ALLOWED', retryable: false });
    }
    // A hidden folder named as a root of its own is readable.
    expect(await opened(join(root, '.kumo', 'admin-token'), [root, join(root, '.kumo')])).toBe('secret\n');
  });

  it('a missing file inside a root, or a folder, is unreadable; a missing file outside is not even looked at', async () => {
    expect(await code(openLocalListing('x', join(root, 'no-such.paths'), [root]))).toEqual({
      code: 'LISTING_UNREADABLE',
      retryable: false,
    });
    expect(await code(openLocalListing('x', join(root, 'sub'), [root]))).toEqual({
      code: 'LISTING_UNREADABLE',
      retryable: false,
    });
    expect(await code(openLocalListing('x', '/no/such/file', [root]))).toEqual({
      code: 'LISTING_NOT_ALLOWED',
      retryable: false,
    });
  });
});
