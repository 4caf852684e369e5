import { KumoError } from '../errors';
import type { ArtifactStore } from './artifact-store';
import { logSegments, logSegmentKey, TASK_LOG_MAX_BYTES } from './task-log';

/** Where a writer's segments go: the artifact store (Redis-side workers), or the API (HTTPS workers). */
export interface TaskLogSink {
  /** Removes what an earlier run of the same attempt left (a hand-back reruns it under its number). */
  clear(): Promise<void>;
  put(offset: number, body: Buffer, last: boolean): Promise<void>;
  remove(offset: number, last: boolean): Promise<void>;
}

export interface TaskLogWriterOptions {
  sink: TaskLogSink;
  /** The most bytes kept; past it the oldest segments are dropped (the tail kept). Default 16 MiB. */
  maxBytes?: number;
  /** A segment is written once this much is buffered... Default 1 MiB, at most maxBytes / 8. */
  segmentBytes?: number;
  /** ...or this long after its first byte, so that a follower sees a slow task's output soon. Default 1 s. */
  flushMs?: number;
  /**
   * The most bytes written to the writer but not yet stored before write() asks its caller to wait.
   * Default 4 segments, at least 2.
   */
  pendingMaxBytes?: number;
  /**
   * The longest one call to the sink may take. Past it the store is taken as hung: the rest of the log
   * is dropped, so that the task neither waits on it nor is held at its end. Default 60 s.
   */
  sinkDeadlineMs?: number;
  /** A write that failed: the log is a convenience, the task's outcome is what counts. */
  onError: (err: unknown) => void;
}

/**
 * One attempt's log, written while the task runs: output is buffered up to a segment and written to
 * the sink in order (one write at a time), never held whole. Nothing is written for a task that prints
 * nothing. A sink slower than the task pushes back: past `pendingMaxBytes` not yet stored, write()
 * returns a promise to wait for (as a Node stream's write() returns false until 'drain'), so that the
 * bytes held per task stay bounded (the runner stops reading the task's output meanwhile). A sink
 * that stops answering cannot hold the task: past `sinkDeadlineMs` the writer gives the log up. The life:
 * open -> closed (close() writes the last segment, marked as the end); either -> abandoned (a sink call
 * outlasted its deadline: what was not stored yet, and all that follows, is dropped).
 */
export class TaskLogWriter {
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly flushMs: number;
  private readonly pendingMaxBytes: number;
  private readonly sinkDeadlineMs: number;
  /** Bytes handed to the sink whose write has not finished. */
  private unstoredBytes = 0;
  /** Callers waiting for the pending bytes to go under the bound. */
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Bytes handed to the sink so far: the next segment's offset. */
  private written = 0;
  /** Segments in the sink, oldest first, for the cap. */
  private readonly kept: { offset: number; bytes: number }[] = [];
  private keptBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private state: 'open' | 'closed' | 'abandoned' = 'open';

  constructor(private readonly o: TaskLogWriterOptions) {
    this.maxBytes = o.maxBytes ?? TASK_LOG_MAX_BYTES;
    this.segmentBytes = Math.max(1, Math.min(o.segmentBytes ?? 1024 * 1024, Math.floor(this.maxBytes / 8)));
    this.flushMs = o.flushMs ?? 1000;
    this.pendingMaxBytes = Math.max(o.pendingMaxBytes ?? 4 * this.segmentBytes, 2 * this.segmentBytes);
    this.sinkDeadlineMs = o.sinkDeadlineMs ?? 60_000;
  }

  /** Bytes the task printed so far. */
  get bytes(): number {
    return this.written + this.bufferedBytes;
  }

  /** Bytes written to the writer and not yet stored (buffered, or on their way to the sink). */
  get pendingBytes(): number {
    return this.bufferedBytes + this.unstoredBytes;
  }

  /**
   * Takes a chunk of output. Returns a promise once `pendingMaxBytes` or more are not yet stored: write
   * nothing more until it resolves (when the pending bytes are back under the bound). A chunk written
   * meanwhile is still kept; only the bound on memory is lost.
   */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.state !== 'open' || chunk.length === 0) return undefined;
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    while (this.bufferedBytes >= this.segmentBytes) this.enqueue(this.take(this.segmentBytes), false);
    if (this.bufferedBytes > 0)
      this.timer ??= setTimeout(() => this.enqueue(this.take(this.bufferedBytes), false), this.flushMs);
    if (this.pendingBytes < this.pendingMaxBytes) return undefined;
    if (!this.waiting) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  /** Writes what is left as the last segment (only if the task printed anything) and waits for every write. */
  async close(): Promise<void> {
    if (this.state === 'open') {
      this.state = 'closed';
      if (this.bytes > 0) this.enqueue(this.take(this.bufferedBytes), true);
    }
    await this.chain;
  }

  private take(n: number): Buffer {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const all = Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length ? [rest] : [];
    this.bufferedBytes = rest.length;
    return out;
  }

  private enqueue(body: Buffer, last: boolean): void {
    const offset = this.written;
    const first = offset === 0;
    this.written += body.length;
    this.unstoredBytes += body.length;
    this.chain = this.chain.then(async () => {
      try {
        if (this.state === 'abandoned') return;
        if (first) await this.withinDeadline(() => this.o.sink.clear());
        await this.withinDeadline(() => this.o.sink.put(offset, body, last));
        this.kept.push({ offset, bytes: body.length });
        this.keptBytes += body.length;
        // The tail kept: drop the oldest segments while the rest is over the cap (never the last one).
        while (this.keptBytes > this.maxBytes && this.kept.length > 1) {
          const old = this.kept.shift()!;
          this.keptBytes -= old.bytes;
          await this.withinDeadline(() => this.o.sink.remove(old.offset, false));
        }
      } catch (err) {
        // Told, never rethrown: a throwing onError would stop the chain, and with it every later segment's
        // accounting (a waiting caller would wait for good).
        try {
          this.o.onError(err);
        } catch {
          // Nothing more to tell anyone.
        }
      } finally {
        // Stored or failed, the segment is no longer held for the sink.
        this.unstoredBytes -= body.length;
        // Given up, nothing more will be stored: a caller told to wait goes on (once told why, above).
        if (this.state === 'abandoned' || this.pendingBytes < this.pendingMaxBytes) this.release();
      }
    });
  }

  /** One sink call, or the log given up (and the call left to end whenever it does) once it is past its deadline. */
  private async withinDeadline(call: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.abandon();
        reject(
          new KumoError(
            'ARTIFACT_STORE_UNAVAILABLE',
            `the artifact store did not answer within ${this.sinkDeadlineMs} ms: the rest of this log is dropped`,
          ),
        );
      }, this.sinkDeadlineMs);
    });
    try {
      await Promise.race([call(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private abandon(): void {
    this.state = 'abandoned';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  /** Lets a caller told to wait go on. */
  private release(): void {
    this.waiting?.resolve();
    this.waiting = undefined;
  }
}

/** A sink into an artifact store: a Redis-side worker's own, or the API's for an HTTPS worker. */
export function storeLogSink(store: ArtifactStore, jobId: string, index: number, attempt: number): TaskLogSink {
  return {
    clear: async () => {
      for (const s of await logSegments(store, jobId, index, attempt)) await store.delete(s.key);
    },
    put: (offset, body, last) =>
      store.put(logSegmentKey(jobId, index, attempt, offset, last), body, { contentType: 'text/plain; charset=utf-8' }),
    remove: (offset, last) => store.delete(logSegmentKey(jobId, index, attempt, offset, last)),
  };
}
