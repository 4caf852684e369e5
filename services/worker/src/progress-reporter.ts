import type { Bus, Clock, Logger, TaskEvent } from '@kumo/shared';

interface Pending {
  events: TaskEvent[];
  waiters: { resolve: () => void }[];
}

/**
 * Batches a worker's task events onto the bus: one message per flush, not one per event. A final event
 * (`ok`, `f`, `r`, `rel`) is awaited by the task until its batch is durable on the bus, so a task is never
 * completed in the queue before its outcome is safe: a worker that dies in between re-runs the task,
 * and the count stays exact because the ingester applies outcomes idempotently.
 */
export class ProgressReporter {
  private pending: Pending = { events: [], waiters: [] };
  private timer:
    { kind: 'immediate'; handle: NodeJS.Immediate } | { kind: 'timeout'; handle: NodeJS.Timeout } | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly opts: {
      bus: Bus;
      workerId: string;
      logger: Logger;
      clock: Clock;
      flushMs?: number;
      maxBatch?: number;
    },
  ) {}

  /** Queue an event; published with the next batch. */
  add(e: TaskEvent): void {
    this.pending.events.push(e);
    this.schedule();
  }

  /** Queue an event and wait until it is on the bus. */
  addAndWait(e: TaskEvent): Promise<void> {
    return new Promise((resolve) => {
      this.pending.events.push(e);
      this.pending.waiters.push({ resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.events.length >= (this.opts.maxBatch ?? 500)) {
      void this.flush();
      return;
    }
    // A task waiting on its outcome holds its slot: publish on the next turn of the event loop (what
    // arrived meanwhile rides along). Events nobody waits on may wait for the timer, to batch more; a
    // waiter arriving while such a timer runs must not wait it out (a no-op task's start sets one).
    if (this.pending.waiters.length > 0) {
      if (this.timer?.kind === 'immediate') return;
      this.clearTimer();
      this.timer = { kind: 'immediate', handle: setImmediate(() => void this.flush()) };
      return;
    }
    if (this.timer) return;
    this.timer = { kind: 'timeout', handle: setTimeout(() => void this.flush(), this.opts.flushMs ?? 10) };
  }

  private clearTimer(): void {
    if (this.timer?.kind === 'immediate') clearImmediate(this.timer.handle);
    else if (this.timer) clearTimeout(this.timer.handle);
    this.timer = undefined;
  }

  /** Publishes what is pending; on failure keeps it and retries with backoff (at-least-once). */
  flush(): Promise<void> {
    this.clearTimer();
    if (this.flushing) return this.flushing.then(() => (this.pending.events.length ? this.flush() : undefined));
    const batch = this.pending;
    if (batch.events.length === 0) return Promise.resolve();
    this.pending = { events: [], waiters: [] };
    batch.events = withoutRedundantStarts(batch.events);
    this.flushing = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.opts.bus.publish('progress', { workerId: this.opts.workerId, events: batch.events });
          for (const w of batch.waiters) w.resolve();
          return;
        } catch (err) {
          this.opts.logger.warn({ err, events: batch.events.length, attempt }, 'progress publish failed; retrying');
          if (this.closed && attempt >= 5) {
            this.opts.logger.error(
              { events: batch.events.length },
              'progress events dropped at shutdown; their tasks will re-run',
            );
            for (const w of batch.waiters) w.resolve();
            return;
          }
          await this.opts.clock.sleep(Math.min(100 * 2 ** attempt, 5000));
        }
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.pending.events.length) this.schedule();
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.flushing) await this.flushing;
  }
}

/**
 * A start whose attempt also ends in the same batch says nothing the end does not: short tasks would
 * otherwise cost the ingester a running-entry write and its removal, per task.
 */
export function withoutRedundantStarts(events: TaskEvent[]): TaskEvent[] {
  const ended = new Set<string>();
  for (const e of events)
    if (e.t === 'ok' || e.t === 'f' || e.t === 'r' || e.t === 'rel') ended.add(`${e.j}|${e.i}|${e.a}`);
  if (ended.size === 0) return events;
  return events.filter((e) => e.t !== 's' || !ended.has(`${e.j}|${e.i}|${e.a}`));
}
