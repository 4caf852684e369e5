import type { FedRange, FedTask, TaskSink } from '../task-sink';

/** The simulation's queue: what the real feeder feeds, in order; handed-back tasks go to the front. */
export class SimTaskSink implements TaskSink {
  private readonly queue: FedTask[] = [];
  private head = 0;

  async waiting(): Promise<number> {
    return this.queue.length - this.head;
  }

  async add(_pool: string, r: FedRange): Promise<number> {
    for (let index = r.from; index < r.to; index++)
      this.queue.push({ jobId: r.jobId, index, kind: r.kind, policy: r.policy });
    return r.to - r.from;
  }

  take(): FedTask | undefined {
    if (this.head >= this.queue.length) return undefined;
    const t = this.queue[this.head++]!;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return t;
  }

  pushFront(t: FedTask): void {
    if (this.head > 0) this.queue[--this.head] = t;
    else this.queue.unshift(t);
  }

  pushBack(t: FedTask): void {
    this.queue.push(t);
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  async close(): Promise<void> {}
}
