import type { FedRange, TaskSink } from './task-sink';

/** A queue that is always empty and remembers what it was given: the feeder tests' stand-in for BullMQ. */
export class RecordingSink implements TaskSink {
  readonly added: FedRange[] = [];
  async waiting(): Promise<number> {
    return 0;
  }
  async add(_pool: string, r: FedRange): Promise<number> {
    this.added.push(r);
    return r.to - r.from;
  }
  async close(): Promise<void> {}
}
