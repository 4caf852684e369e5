import { describe, expect, it } from 'vitest';
import { InMemoryBus, type ProgressBatch, type TaskEvent } from '@kumo/shared';
import { ProgressBatcher } from './progress-batcher';

const ev = (i: number, w = 'w1'): TaskEvent => ({ t: 'ok', j: 'j1', i, a: 1, w, at: 1 });

describe('the lease broker’s progress batcher', () => {
  it('publishes the events of one turn as one message per worker, each caller resolved after it', async () => {
    const bus = new InMemoryBus();
    const got: ProgressBatch[] = [];
    await bus.subscribe('progress', 'g', async (m) => void got.push(m.data));
    const batcher = new ProgressBatcher(bus);
    const order: string[] = [];
    await Promise.all([
      batcher.publish('w1', [ev(0)]).then(() => order.push('a')),
      batcher.publish('w1', [ev(1), ev(2)]).then(() => order.push('b')),
      batcher.publish('w2', [ev(3, 'w2')]).then(() => order.push('c')),
    ]);
    expect(got.map((b) => [b.workerId, b.events.map((e) => e.i)])).toEqual([
      ['w1', [0, 1, 2]],
      ['w2', [3]],
    ]);
    expect(order.sort()).toEqual(['a', 'b', 'c']);
    await bus.close();
  });

  it('fails every caller whose events a failed publish carried', async () => {
    const bus = new InMemoryBus();
    await bus.close(); // a closed bus refuses every publish
    const batcher = new ProgressBatcher(bus);
    const results = await Promise.allSettled([batcher.publish('w1', [ev(0)]), batcher.publish('w1', [ev(1)])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
