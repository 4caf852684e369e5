import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactStore } from './artifact-store';
import { LocalArtifactStore } from './local-artifact-store';
import { loggedAttempts } from './task-log';
import { storeLogSink, TaskLogWriter } from './task-log-writer';

/** Every call that reaches the store, by kind: what a task's log costs it. */
function counting(inner: ArtifactStore): {
  store: ArtifactStore;
  calls: { put: number; delete: number; list: number };
} {
  const calls = { put: 0, delete: 0, list: 0 };
  const store: ArtifactStore = {
    kind: inner.kind,
    put: (key, body, opts) => {
      calls.put++;
      return inner.put(key, body, opts);
    },
    get: (key) => inner.get(key),
    list: (prefix) => {
      calls.list++;
      return inner.list(prefix);
    },
    delete: (key) => {
      calls.delete++;
      return inner.delete(key);
    },
    uri: (key) => inner.uri(key),
  };
  return { store, calls };
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kumo-task-log-writer-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('TaskLogWriter', () => {
  it('a task that prints nothing costs the store nothing: no put, no delete, not even the listing that clears', async () => {
    const { store, calls } = counting(new LocalArtifactStore({ root }));
    const errors: unknown[] = [];
    const w = new TaskLogWriter({
      sink: storeLogSink(store, 'job_silent', 0, 1),
      flushMs: 1,
      onError: (e) => errors.push(e),
    });
    // What a pipe may hand over for a task that prints nothing: no chunk, or an empty one.
    w.write(Buffer.alloc(0));
    await new Promise((r) => setTimeout(r, 20));
    await w.close();
    await w.close();
    expect(errors).toEqual([]);
    expect(w.bytes).toBe(0);
    expect(calls).toEqual({ put: 0, delete: 0, list: 0 });
    expect(await loggedAttempts(store, 'job_silent', 0)).toEqual([]);
  });

  it('a task that prints one line costs one put (its last segment) after clearing what an earlier run left', async () => {
    const { store, calls } = counting(new LocalArtifactStore({ root }));
    const w = new TaskLogWriter({
      sink: storeLogSink(store, 'job_one_line', 0, 1),
      onError: (e) => {
        throw e;
      },
    });
    w.write(Buffer.from('hello\n'));
    await w.close();
    expect(calls).toEqual({ put: 1, delete: 0, list: 1 });
    expect(await loggedAttempts(store, 'job_one_line', 0)).toEqual([1]);
  });
});
