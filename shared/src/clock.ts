/**
 * The clock seam. Everything that waits or reads the time takes a Clock, so the real scheduler and
 * autoscaler can run on virtual time in simulations and tests.
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const wallClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * Virtual time: sleeps resolve only when the owner advances the clock. `advanceTo` wakes sleepers in
 * time order and lets their continuations run (via `settle`) before moving on, so the outcome depends
 * only on the seed and the code, not on the machine's speed.
 */
export class VirtualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;

  constructor(start = Date.UTC(2024, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** The time of the earliest pending sleeper, if any. */
  nextWake(): number | undefined {
    let min: number | undefined;
    for (const s of this.sleepers) if (min === undefined || s.at < min) min = s.at;
    return min;
  }

  pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward to `t`, waking each sleeper due on the way, in order. */
  async advanceTo(t: number, settle: () => Promise<void> = defaultSettle): Promise<void> {
    for (;;) {
      const next = this.nextWake();
      if (next === undefined || next > t) break;
      this.current = Math.max(this.current, next);
      const due = this.sleepers.filter((s) => s.at <= this.current).sort((a, b) => a.at - b.at || a.seq - b.seq);
      this.sleepers = this.sleepers.filter((s) => s.at > this.current);
      for (const s of due) s.resolve();
      await settle();
    }
    this.current = Math.max(this.current, t);
  }
}

async function defaultSettle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
