import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcsArtifactStore, KumoError, LocalArtifactStore, type ArtifactStore } from '@kumo/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32cBase64, startFakeGcs, type FakeGcs } from '../fakes/gcs-server';

let fakeGcs: FakeGcs;
let localRoot: string;

beforeAll(async () => {
  fakeGcs = await startFakeGcs();
  localRoot = await mkdtemp(join(tmpdir(), 'kumo-artifacts-'));
});

afterAll(async () => {
  await fakeGcs.close();
  await rm(localRoot, { recursive: true, force: true });
});

const gcsStore = (opts: Partial<ConstructorParameters<typeof GcsArtifactStore>[0]> = {}): GcsArtifactStore =>
  new GcsArtifactStore({
    bucket: 'kumo-artifacts',
    projectId: 'kumo-test',
    endpoint: fakeGcs.endpoint,
    maxRetryDelayMs: 50,
    ...opts,
  });

const stores: Array<[string, () => ArtifactStore]> = [
  ['local', () => new LocalArtifactStore({ root: localRoot })],
  ['gcs', () => gcsStore()],
];

/** Each test its own key space, so the two stores' runs and the tests never see each other's keys. */
const space = (): string => `jobs/job_${randomBytes(4).toString('hex')}`;

describe.each(stores)('%s artifact store contract', (kind, make) => {
  let store: ArtifactStore;
  beforeAll(() => {
    store = make();
  });

  it('puts, gets, lists by prefix and deletes', async () => {
    const base = space();
    expect(store.kind).toBe(kind);
    await store.put(`${base}/tasks/0/log.txt`, 'line 1\nline 2\n', { contentType: 'text/plain' });
    await store.put(`${base}/tasks/1/log.txt`, 'other');
    const binary = randomBytes(70_000);
    await store.put(`${base}/tasks/0/output.bin`, binary);
    await store.put(`${base}-sibling/x.txt`, 'not under the prefix with a slash');

    expect((await store.get(`${base}/tasks/0/log.txt`))?.toString()).toBe('line 1\nline 2\n');
    expect((await store.get(`${base}/tasks/0/output.bin`))?.equals(binary)).toBe(true);

    expect(await store.list(`${base}/`)).toEqual([
      `${base}/tasks/0/log.txt`,
      `${base}/tasks/0/output.bin`,
      `${base}/tasks/1/log.txt`,
    ]);
    expect(await store.list(`${base}/tasks/0/`)).toEqual([`${base}/tasks/0/log.txt`, `${base}/tasks/0/output.bin`]);
    // A prefix need not end at a slash: it matches names, as GCS does.
    expect(await store.list(`${base}/tasks/1/lo`)).toEqual([`${base}/tasks/1/log.txt`]);

    await store.delete(`${base}/tasks/0/log.txt`);
    expect(await store.get(`${base}/tasks/0/log.txt`)).toBeUndefined();
    expect(await store.list(`${base}/tasks/0/`)).toEqual([`${base}/tasks/0/output.bin`]);
  });

  it('overwrites a key with the new body', async () => {
    const key = `${space()}/result.json`;
    await store.put(key, '{"v":1}');
    await store.put(key, '{"v":2}');
    expect((await store.get(key))?.toString()).toBe('{"v":2}');
  });

  it('answers undefined for a missing key, [] for an empty prefix, and deletes a missing key quietly', async () => {
    const base = space();
    expect(await store.get(`${base}/nothing-here`)).toBeUndefined();
    expect(await store.list(`${base}/`)).toEqual([]);
    await expect(store.delete(`${base}/nothing-here`)).resolves.toBeUndefined();
  });

  it('refuses keys that could leave the store, with INVALID_INPUT', async () => {
    for (const bad of [
      '../escape.txt',
      'jobs/../../etc/passwd',
      '/etc/passwd',
      'jobs//x',
      'jobs/./x',
      '',
      'a\\b',
      'C:/x',
    ]) {
      const err = await store.put(bad, 'x').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `key ${JSON.stringify(bad)}`).toBeInstanceOf(KumoError);
      expect((err as KumoError).code).toBe('INVALID_INPUT');
    }
    await expect(store.get('../x')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.list('../')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.delete('/abs')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('names objects with a URI of its kind', () => {
    const uri = store.uri('jobs/j/log.txt');
    expect(uri).toBe(
      kind === 'gcs' ? 'gs://kumo-artifacts/jobs/j/log.txt' : `file://${join(localRoot, 'jobs/j/log.txt')}`,
    );
  });
});

describe('local artifact store', () => {
  it('leaves no temporary files and no empty folders behind', async () => {
    const store = new LocalArtifactStore({ root: localRoot });
    const base = space();
    await store.put(`${base}/a/b/c.txt`, 'c');
    await store.delete(`${base}/a/b/c.txt`);
    await expect(stat(join(localRoot, base))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(localRoot, '.kumo-tmp'))).toEqual([]);
    expect((await store.list('')).some((k) => k.startsWith('.kumo-tmp'))).toBe(false);
  });

  it("keeps what it stores readable by its own user only (tasks pass through the folder to their checkpoints, and another submitter's task log is not theirs to read)", async () => {
    const store = new LocalArtifactStore({ root: localRoot });
    const key = `${space()}/tasks/0/1/log-0`;
    await store.put(key, 'secret printed by a task');
    expect((await stat(join(localRoot, key))).mode & 0o777).toBe(0o600);
  });

  it('refuses a key that is also used as a folder, with CONFLICT', async () => {
    const store = new LocalArtifactStore({ root: localRoot });
    const base = space();
    await store.put(`${base}/a`, 'file');
    await expect(store.put(`${base}/a/b`, 'under a file')).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

describe('gcs artifact store', () => {
  it('uploads small bodies in one multipart request and large ones as resumable uploads', async () => {
    const store = gcsStore({ resumableThresholdBytes: 1024 });
    const base = space();
    await store.put(`${base}/small.txt`, 'tiny');
    await store.put(`${base}/large.bin`, randomBytes(4096));
    const kinds = Object.fromEntries(
      fakeGcs.uploads.filter((u) => u.name.startsWith(base)).map((u) => [u.name, u.uploadType]),
    );
    expect(kinds).toEqual({ [`${base}/small.txt`]: 'multipart', [`${base}/large.bin`]: 'resumable' });
    expect(fakeGcs.object('kumo-artifacts', `${base}/small.txt`)?.contentType).toBe('text/plain; charset=utf-8');
    expect(fakeGcs.unknownRoutes).toEqual([]);
  });

  it('fails a put whose stored bytes do not match (crc32c), and leaves no object', async () => {
    const store = gcsStore({ maxRetries: 0 });
    const key = `${space()}/torn.txt`;
    fakeGcs.corruptNextUpload();
    const err = await store.put(key, 'the whole text').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KumoError);
    expect((err as KumoError).code).toBe('PROVIDER_UNAVAILABLE');
    expect((err as KumoError).retryable).toBe(true);
    expect(fakeGcs.object('kumo-artifacts', key)).toBeUndefined();
  });

  it('retries a 503 on download and on upload, then succeeds', async () => {
    const store = gcsStore();
    const key = `${space()}/retry.txt`;
    fakeGcs.failNext(503, 'upload');
    await store.put(key, 'after a 503');
    fakeGcs.failNext(503, 'download');
    expect((await store.get(key))?.toString()).toBe('after a 503');
  });

  it('maps a 503 that outlasts the retries to retryable PROVIDER_UNAVAILABLE, and a 403 to PROVIDER_REJECTED', async () => {
    const store = gcsStore({ maxRetries: 0 });
    fakeGcs.failNext(503, 'list');
    await expect(store.list('jobs/')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    fakeGcs.failNext(403, 'download');
    await expect(store.get('jobs/x')).rejects.toMatchObject({ code: 'PROVIDER_REJECTED', retryable: false });
  });

  it('keeps keys under the configured prefix inside the bucket', async () => {
    const store = gcsStore({ prefix: 'kumo/' });
    const base = space();
    await store.put(`${base}/p.txt`, 'p');
    expect(fakeGcs.object('kumo-artifacts', `kumo/${base}/p.txt`)).toBeDefined();
    expect(await store.list(`${base}/`)).toEqual([`${base}/p.txt`]);
    expect(store.uri(`${base}/p.txt`)).toBe(`gs://kumo-artifacts/kumo/${base}/p.txt`);
  });
});

it('crc32c matches the published check value', () => {
  // CRC-32C("123456789") = 0xE3069283 (RFC 3720, B.4).
  expect(crc32cBase64(Buffer.from('123456789'))).toBe(Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString('base64'));
});
