import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactStore } from './artifact-store';
import { LocalArtifactStore } from './local-artifact-store';
import { loggedAttempts } from './task-log';
import { storeLogSink, TaskLogWriter, type TaskLogSink } from './task-log-writer';

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

/** A sink whose puts wait until the test lets them through, one by one: a store as slow as the test says. */
function gatedSink(): {
  sink: TaskLogSink;
  stored: Map<number, Buffer>;
  letOneThrough: () => Promise<void>;
} {
  const stored = new Map<number, Buffer>();
  const gates: (() => void)[] = [];
  let arrived: () => void = () => undefined;
  return {
    stored,
    sink: {
      clear: async () => undefined,
      put: async (offset, body) => {
        await new Promise<void>((r) => {
          gates.push(r);
          arrived();
        });
        stored.set(offset, body);
      },
      remove: async (offset) => void stored.delete(offset),
    },
    letOneThrough: async () => {
      if (gates.length === 0) await new Promise<void>((r) => (arrived = r));
      gates.shift()!();
      // Let the writer's chain see the put settle.
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('TaskLogWriter pushing back', () => {
  it('asks its caller to wait once the bound is not yet stored, and lets it go on once the sink has caught up', async () => {
    const { sink, stored, letOneThrough } = gatedSink();
    const w = new TaskLogWriter({
      sink,
      segmentBytes: 100,
      maxBytes: 1 << 20,
      pendingMaxBytes: 400,
      onError: () => {},
    });
    const chunk = (i: number): Buffer => Buffer.alloc(50, String.fromCharCode(97 + (i % 26)));
    const writes: (Promise<void> | undefined)[] = [];
    for (let i = 0; i < 8; i++) writes.push(w.write(chunk(i)));
    // 400 bytes written, none stored: the eighth write reaches the bound and is asked to wait.
    expect(writes.slice(0, 7)).toEqual(Array(7).fill(undefined));
    expect(writes[7]).toBeInstanceOf(Promise);
    expect(w.pendingBytes).toBe(400);
    let released = false;
    void writes[7]!.then(() => (released = true));
    await letOneThrough();
    expect(released).toBe(true);
    expect(w.pendingBytes).toBe(300);
    while (stored.size < 4) await letOneThrough();
    // The last segment (empty here: every byte is stored already) goes through the gate too.
    const closed = w.close();
    await letOneThrough();
    await closed;
    expect(Buffer.concat([...stored.values()])).toEqual(Buffer.concat(Array.from({ length: 8 }, (_, i) => chunk(i))));
  });

  it('a caller that waits when told never has more than the bound and one chunk unstored, and the log is whole', async () => {
    const { sink, stored, letOneThrough } = gatedSink();
    const bound = 4 * 1024;
    const w = new TaskLogWriter({
      sink,
      segmentBytes: 1024,
      maxBytes: 1 << 20,
      pendingMaxBytes: bound,
      onError: () => {},
    });
    const text = Array.from({ length: 3000 }, (_, i) => `${String(i).padStart(6, '0')}\n`).join('');
    const all = Buffer.from(text); // 21,000 bytes: five times the bound
    let maxPending = 0;
    let waits = 0;
    const producer = (async () => {
      for (let i = 0; i < all.length; i += 333) {
        const wait = w.write(all.subarray(i, i + 333));
        maxPending = Math.max(maxPending, w.pendingBytes);
        if (wait) {
          waits++;
          await wait;
        }
      }
      await w.close();
    })();
    let done = false;
    void producer.then(() => (done = true));
    while (!done) await letOneThrough();
    await producer;
    expect(waits).toBeGreaterThan(0);
    expect(maxPending).toBeLessThan(bound + 333);
    expect(Buffer.concat([...stored.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b)).toString()).toBe(text);
  });
});

describe('TaskLogWriter on a store that stops answering', () => {
  it('gives the log up past the deadline: a waiting caller goes on, close() ends, later output is dropped, one error told', async () => {
    const puts: number[] = [];
    // Every put hangs for good, as on a store behind a dead connection.
    const sink: TaskLogSink = {
      clear: async () => undefined,
      put: (offset) => {
        puts.push(offset);
        return new Promise<void>(() => {});
      },
      remove: () => new Promise<void>(() => {}),
    };
    const errors: unknown[] = [];
    const w = new TaskLogWriter({
      sink,
      segmentBytes: 100,
      maxBytes: 1 << 20,
      pendingMaxBytes: 300,
      sinkDeadlineMs: 50,
      // A reporter that fails too changes nothing of the above.
      onError: (e) => {
        errors.push(e);
        throw new Error('the log reporter is down as well');
      },
    });
    expect(w.write(Buffer.alloc(100, 'a'))).toBeUndefined();
    expect(w.write(Buffer.alloc(100, 'b'))).toBeUndefined();
    // Three segments unstored: the caller is asked to wait, and is let go by the deadline (nothing is ever stored).
    const wait = w.write(Buffer.alloc(100, 'c'));
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    expect(errors).toHaveLength(1);
    // Given up: output after it costs nothing, and the end of the task is not held by the hung call.
    expect(w.write(Buffer.alloc(100, 'd'))).toBeUndefined();
    await w.close();
    // Only the first segment ever reached the store: the queued ones were dropped, not sent into the hang.
    expect(puts).toEqual([0]);
    expect(errors).toEqual([expect.objectContaining({ code: 'ARTIFACT_STORE_UNAVAILABLE', retryable: true })]);
  });
});
