import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cutMarker,
  deleteJobLogs,
  dropPastCap,
  GcsArtifactStore,
  LocalArtifactStore,
  loggedAttempts,
  logSegments,
  readSegments,
  storeLogSink,
  TaskLogWriter,
  type ArtifactStore,
} from '@kumo/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGcs, type FakeGcs } from '../fakes/gcs-server';

let fakeGcs: FakeGcs;
let localRoot: string;
beforeAll(async () => {
  fakeGcs = await startFakeGcs();
  localRoot = await mkdtemp(join(tmpdir(), 'kumo-task-log-'));
});
afterAll(async () => {
  await fakeGcs.close();
  await rm(localRoot, { recursive: true, force: true });
});

const stores: Array<[string, () => ArtifactStore]> = [
  ['local', () => new LocalArtifactStore({ root: localRoot })],
  [
    'gcs',
    () =>
      new GcsArtifactStore({
        bucket: 'kumo-artifacts',
        projectId: 'kumo-test',
        endpoint: fakeGcs.endpoint,
        maxRetryDelayMs: 50,
      }),
  ],
];

async function readAll(store: ArtifactStore, jobId: string, index: number, attempt: number): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of readSegments(store, await logSegments(store, jobId, index, attempt), { reached: 0 }))
    parts.push(b);
  return Buffer.concat(parts).toString();
}

describe.each(stores)('task logs in the %s artifact store', (_name, make) => {
  it('keeps the whole output in segments, the last one marked; nothing at all for a task that printed nothing', async () => {
    const store = make();
    const jobId = `job_${randomBytes(6).toString('hex')}`;
    const errors: unknown[] = [];
    const w = new TaskLogWriter({
      sink: storeLogSink(store, jobId, 0, 1),
      segmentBytes: 1000,
      maxBytes: 1 << 20,
      onError: (e) => errors.push(e),
    });
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join('');
    for (let i = 0; i < text.length; i += 77) w.write(Buffer.from(text.slice(i, i + 77)));
    await w.close();
    expect(errors).toEqual([]);
    const segments = await logSegments(store, jobId, 0, 1);
    expect(segments.length).toBe(Math.ceil(text.length / 1000));
    expect(segments.filter((s) => s.last)).toEqual([segments[segments.length - 1]]);
    expect(await readAll(store, jobId, 0, 1)).toBe(text);

    const quiet = new TaskLogWriter({ sink: storeLogSink(store, jobId, 1, 1), onError: (e) => errors.push(e) });
    await quiet.close();
    expect(await loggedAttempts(store, jobId, 1)).toEqual([]);
    expect(await loggedAttempts(store, jobId, 0)).toEqual([1]);
  });

  it('past its cap drops the oldest segments (the tail kept) and the reader marks the cut; deleting the job deletes its logs', async () => {
    const store = make();
    const jobId = `job_${randomBytes(6).toString('hex')}`;
    const w = new TaskLogWriter({
      sink: storeLogSink(store, jobId, 2, 3),
      maxBytes: 64 * 1024,
      onError: (e) => {
        throw e;
      },
    });
    const body = Buffer.alloc(300_000, 'a');
    body.write('THE END\n', body.length - 8);
    w.write(body);
    await w.close();
    const text = await readAll(store, jobId, 2, 3);
    const first = (await logSegments(store, jobId, 2, 3))[0]!.offset;
    expect(first).toBeGreaterThan(0);
    expect(text.startsWith(cutMarker(first))).toBe(true);
    const tail = text.slice(cutMarker(first).length);
    expect(first + tail.length).toBe(300_000);
    expect(tail.length).toBeLessThanOrEqual(64 * 1024);
    expect(tail.endsWith('THE END\n')).toBe(true);

    const other = `job_${randomBytes(6).toString('hex')}`;
    const kept = new TaskLogWriter({
      sink: storeLogSink(store, other, 0, 1),
      onError: (e) => {
        throw e;
      },
    });
    kept.write(Buffer.from('another job\n'));
    await kept.close();
    expect(await deleteJobLogs(store, jobId)).toBeGreaterThan(0);
    expect(await store.list(`jobs/${jobId}/`)).toEqual([]);
    expect(await readAll(store, other, 0, 1)).toBe('another job\n');
  });

  it('a rerun of the same attempt (a hand-back keeps its number) replaces what the first run left', async () => {
    const store = make();
    const jobId = `job_${randomBytes(6).toString('hex')}`;
    const first = new TaskLogWriter({
      sink: storeLogSink(store, jobId, 0, 1),
      segmentBytes: 10,
      maxBytes: 1 << 20,
      onError: (e) => {
        throw e;
      },
    });
    first.write(Buffer.from('a long first run, handed back\n'));
    await first.close();
    const again = new TaskLogWriter({
      sink: storeLogSink(store, jobId, 0, 1),
      onError: (e) => {
        throw e;
      },
    });
    again.write(Buffer.from('second\n'));
    await again.close();
    expect(await readAll(store, jobId, 0, 1)).toBe('second\n');
  });

  it("holds the cap from the store's side too, whatever a writer does (an HTTPS worker is not trusted to drop its own)", async () => {
    const store = make();
    const jobId = `job_${randomBytes(6).toString('hex')}`;
    const w = new TaskLogWriter({
      sink: storeLogSink(store, jobId, 0, 1),
      segmentBytes: 1000,
      maxBytes: 1 << 20,
      onError: (e) => {
        throw e;
      },
    });
    w.write(Buffer.alloc(10_000, 'b'));
    await w.close();
    expect(await dropPastCap(store, jobId, 0, 1, 10_000, 4000)).toBe(6);
    const text = await readAll(store, jobId, 0, 1);
    expect(text).toBe(cutMarker(6000) + 'b'.repeat(4000));
  });
});
