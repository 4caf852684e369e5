import { describe, expect, it } from 'vitest';
import { createLogger, InMemoryBus, wallClock, type TaskEvent } from '@kumo/shared';
import { ProgressReporter, withoutRedundantStarts } from './progress-reporter';

const logger = createLogger({ name: 'test', level: 'silent' });
const ev = (t: TaskEvent['t'], i = 0, a = 1): TaskEvent => ({ j: 'job', i, a, w: 'w', t, at: 0 });

async function reporterWithBus(flushMs: number): Promise<{ reporter: ProgressReporter; published: TaskEvent[][] }> {
  const bus = new InMemoryBus();
  const published: TaskEvent[][] = [];
  await bus.subscribe('progress', 'test', async (m) => void published.push(m.data.events));
  return { reporter: new ProgressReporter({ bus, workerId: 'w', logger, clock: wallClock, flushMs }), published };
}

describe('ProgressReporter', () => {
  it('publishes an awaited outcome on the next turn even while a slow timer for a start is pending', async () => {
    // The start sets the batching timer (a minute here); the outcome that follows must not wait it out.
    const { reporter, published } = await reporterWithBus(60_000);
    reporter.add(ev('s'));
    const t0 = performance.now();
    await reporter.addAndWait(ev('ok'));
    expect(performance.now() - t0).toBeLessThan(5_000);
    // One batch; the start rode along with its end and was dropped as redundant.
    expect(published).toEqual([[ev('ok')]]);
    await reporter.close();
  });

  it('batches events nobody waits on until the timer, then publishes them together', async () => {
    const { reporter, published } = await reporterWithBus(20);
    reporter.add(ev('s', 1));
    reporter.add(ev('s', 2));
    expect(published).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    expect(published).toEqual([[ev('s', 1), ev('s', 2)]]);
    await reporter.close();
  });

  it('keeps a start whose end is in another batch, and every end', () => {
    expect(withoutRedundantStarts([ev('s', 1), ev('s', 2), ev('ok', 1), ev('s', 3, 2), ev('r', 3, 1)])).toEqual([
      ev('s', 2),
      ev('ok', 1),
      ev('s', 3, 2),
      ev('r', 3, 1),
    ]);
  });
});
