import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import { IDS_PER_COMMAND } from './stream-pending';

const TRIM_EVERY_MS = 1000;

/**
 * A subscription's acks: those of one event-loop turn go out as one XACK (or several of at most
 * IDS_PER_COMMAND ids), and at most once a second after them the stream is trimmed of what every group
 * has acked, so it keeps what is in flight, not every message sent.
 */
export class AckBatcher {
  private ids: string[] = [];
  private scheduled = false;
  private readonly pending = new Set<Promise<void>>();
  private lastTrim = 0;

  constructor(
    private readonly o: {
      commands: Redis;
      key: string;
      group: string;
      trimAcked: () => Promise<number>;
      log: Logger;
      /** Called with every id whose XACK has answered, whether it succeeded or not. */
      onSettled: (ids: string[]) => void;
    },
  ) {}

  add(entryId: string): void {
    this.ids.push(entryId);
    if (this.ids.length >= IDS_PER_COMMAND) {
      void this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
  }

  /** Sends what is queued, and waits for every XACK still on its way. */
  async flush(): Promise<void> {
    const ids = this.ids;
    this.ids = [];
    if (ids.length > 0) {
      const done = this.o.commands
        .xack(this.o.key, this.o.group, ...ids)
        .then(
          () => undefined,
          // Still pending: redelivered after the deadline, and the handler is idempotent by id.
          (err: unknown) => this.o.log.warn({ err, count: ids.length }, 'bus ack failed; messages will be redelivered'),
        )
        .finally(() => {
          this.o.onSettled(ids);
          this.pending.delete(done);
        });
      this.pending.add(done);
      this.maybeTrim();
    }
    await Promise.all([...this.pending]);
  }

  private maybeTrim(): void {
    const now = Date.now();
    if (now - this.lastTrim < TRIM_EVERY_MS) return;
    this.lastTrim = now;
    this.o.trimAcked().catch((err: unknown) => this.o.log.warn({ err }, 'bus stream trim failed'));
  }
}
