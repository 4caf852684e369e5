import type { Bus, TaskEvent } from '@kumo/shared';

/** A message holds at most this many events; more start the next one. */
const EVENTS_PER_MESSAGE = 256;

interface Pending {
  events: TaskEvent[];
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

/**
 * The lease broker's task events, published together: what HTTPS workers report in the same turn of
 * the event loop goes on the bus as one message per worker instead of one each (each message is a
 * Redis write here and a read and fold in the scheduler's ingester). Each caller still waits for the
 * publish that carries its events: an outcome is on the bus before its task leaves the queue, and a
 * failed publish fails every request whose events it carried (their workers report them again).
 */
export class ProgressBatcher {
  private pending = new Map<string, Pending>();
  private scheduled = false;

  constructor(private readonly bus: Bus) {}

  publish(workerId: string, events: TaskEvent[]): Promise<void> {
    return new Promise((resolve, reject) => {
      let p = this.pending.get(workerId);
      if (!p) this.pending.set(workerId, (p = { events: [], waiters: [] }));
      p.events.push(...events);
      p.waiters.push({ resolve, reject });
      if (p.events.length >= EVENTS_PER_MESSAGE) {
        this.pending.delete(workerId);
        this.send(workerId, p);
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = new Map();
    for (const [workerId, p] of all) this.send(workerId, p);
  }

  private send(workerId: string, p: Pending): void {
    this.bus.publish('progress', { workerId, events: p.events }).then(
      () => p.waiters.forEach((w) => w.resolve()),
      (err: unknown) => p.waiters.forEach((w) => w.reject(err)),
    );
  }
}
