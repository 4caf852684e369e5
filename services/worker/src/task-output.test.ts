import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  LocalArtifactStore,
  logSegments,
  readSegments,
  storeLogSink,
  TaskLogWriter,
  wallClock,
  type ArtifactStore,
} from '@kumo/shared';
import { taskHost } from '../../../test/support/task-host';
import { LINE_MAX_BYTES, LineScanner } from './line-scanner';
import { runTask, TaskFailure, type TaskRunInput } from './task-runner';

const MIB = 1024 * 1024;

function run(code: string, extra: Partial<TaskRunInput> = {}): ReturnType<typeof runTask> {
  return runTask({
    run: { command: ['python3', '-c', code] },
    env: { KUMO_JOB_ID: 'job_output_test' },
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    clock: wallClock,
    sandbox: taskHost().sandbox,
    ...extra,
  });
}

/** The most bytes of an unfinished line any scanner held, watched through the real runner. */
function watchHeldLines(): { maxHeld: () => number; pushes: () => number } {
  const push = LineScanner.prototype.push;
  let maxHeld = 0;
  let pushes = 0;
  vi.spyOn(LineScanner.prototype, 'push').mockImplementation(function (this: LineScanner, chunk: Buffer) {
    push.call(this, chunk);
    pushes++;
    maxHeld = Math.max(maxHeld, this.heldLineBytes);
  });
  return { maxHeld: () => maxHeld, pushes: () => pushes };
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kumo-task-output-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('a task that prints a line with no end', () => {
  it('80 MiB without a newline: the runner holds at most the line bound, the log gets every byte, and a result line after it is read', async () => {
    const watch = watchHeldLines();
    let logged = 0;
    let last = Buffer.alloc(0);
    const out = await run(
      `import os
block = b'x' * (1 << 20)
for _ in range(80): os.write(1, block)
os.write(1, b'\\n::kumo::result {"after": "the long line"}\\n')`,
      {
        onOutput: (chunk) => {
          logged += chunk.length;
          last = Buffer.concat([last, chunk]).subarray(-64);
        },
      },
    );
    expect(out.result).toEqual({ after: 'the long line' });
    expect(logged).toBe(80 * MIB + '\n::kumo::result {"after": "the long line"}\n'.length);
    expect(last.toString()).toContain('::kumo::result');
    // Every chunk went through a scanner (the watch saw the task's output), and none held more than the bound.
    expect(watch.pushes()).toBeGreaterThan((80 * MIB) / (64 * 1024) - 1);
    expect(watch.maxHeld()).toBeLessThanOrEqual(LINE_MAX_BYTES);
  });

  it('a failing task after a 1 MiB line: the failure tail keeps its size (8 KiB), the end of that line', async () => {
    const err = await run(
      `import os, sys
os.write(1, b'z' * (1 << 20))
sys.exit(3)`,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect((err as TaskFailure).code).toBe('TASK_EXIT_NONZERO');
    expect((err as TaskFailure).logTail).toBe('z'.repeat(8192 - 1) + '\n');
  });

  it('an overlong ::kumo:: line is not a contract line: not merged, marked in the tail; the next one is read', async () => {
    const out = await run(
      `import os
os.write(1, b'::kumo::result {"pad": "' + b'q' * 60000 + b'"}\\n')
os.write(1, b'::kumo::result {"big": "' + b'y' * ${LINE_MAX_BYTES} + b'"}\\n')
os.write(1, b'::kumo::result {"small": 1}\\n')`,
    );
    // A contract line under the bound, however long, is read.
    expect(out.result).toEqual({ pad: 'q'.repeat(60000), small: 1 });
    expect(out.logTail.endsWith(`yyyy"}  <- longer than ${LINE_MAX_BYTES} bytes, not read as a kumo line\n`)).toBe(
      true,
    );
  });
});

/** The artifact store, each put held back a little: a store slower than the task prints. */
function slowStore(inner: ArtifactStore): ArtifactStore {
  return {
    kind: inner.kind,
    put: async (key, body, opts) => {
      await new Promise((r) => setTimeout(r, 2));
      return inner.put(key, body, opts);
    },
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    delete: (key) => inner.delete(key),
    uri: (key) => inner.uri(key),
  };
}

describe('a task that prints faster than its log is stored', () => {
  it("is held to the store's pace: the writer never takes a chunk while the bound is unstored, and the log is whole", async () => {
    const store = new LocalArtifactStore({ root });
    const bound = 256 * 1024;
    const log = new TaskLogWriter({
      sink: storeLogSink(slowStore(store), 'job_slow_store', 0, 1),
      segmentBytes: 64 * 1024,
      pendingMaxBytes: bound,
      onError: (e) => {
        throw e;
      },
    });
    let maxPendingBefore = 0;
    let maxPendingAfter = 0;
    let maxChunk = 0;
    let waits = 0;
    // 2 MiB of numbered lines, eight times the bound, written as fast as the pipe takes them.
    const lines = (2 * MIB) / 8;
    await run(
      `import os
os.write(1, b''.join(b'%07d\\n' % i for i in range(${lines})))`,
      {
        onOutput: (chunk) => {
          maxPendingBefore = Math.max(maxPendingBefore, log.pendingBytes);
          maxChunk = Math.max(maxChunk, chunk.length);
          const wait = log.write(chunk);
          maxPendingAfter = Math.max(maxPendingAfter, log.pendingBytes);
          if (wait) waits++;
          return wait;
        },
      },
    );
    await log.close();
    // The store was behind (the writer asked to wait), and no chunk came while it was at its bound.
    expect(waits).toBeGreaterThan(0);
    expect(maxPendingBefore).toBeLessThan(bound);
    expect(maxPendingAfter).toBeLessThan(bound + maxChunk);
    const parts: Buffer[] = [];
    const segments = await logSegments(store, 'job_slow_store', 0, 1);
    for await (const b of readSegments(store, segments, { reached: 0 })) parts.push(b);
    const text = Buffer.concat(parts).toString();
    expect(text.length).toBe(2 * MIB);
    expect(text.split('\n', lines).every((l, i) => Number(l) === i)).toBe(true);
  });
});
