import { describe, expect, it } from 'vitest';
import { createLogger, MAX_COMPLETIONS_PER_CALL } from '@kumo/shared';
import { CompletionBatcher, type CompletionBody } from './completion-batcher';

type Body = CompletionBody | { workerId: string; completions: CompletionBody[] };
type Answer = { leaseId: string; ok: true; final: boolean } | { leaseId: string; error: object };

/** A fake API: records each call's body; `answer` says what it answers (throw { status } for a refusal). */
function harness(answer: (body: Body) => unknown) {
  const calls: Body[] = [];
  const batcher = new CompletionBatcher({
    call: async <T>(_path: string, body: unknown): Promise<T> => {
      calls.push(structuredClone(body) as Body);
      return answer(body as Body) as T;
    },
    workerId: 'w1',
    sleep: () => Promise.resolve(),
    logger: createLogger({ name: 'completion-batcher', level: 'silent' }),
  });
  return { batcher, calls };
}

const ok = (leaseId: string): Answer => ({ leaseId, ok: true, final: true });
const end = (leaseId: string): CompletionBody => ({ leaseId, outcome: 'succeeded' });
const batchOf = (b: Body): CompletionBody[] | undefined =>
  'completions' in b ? (b.completions as CompletionBody[]) : undefined;

describe('the HTTPS agent’s completion batcher', () => {
  it('sends the ends of one turn in one call and answers each lease as the API did', async () => {
    const { batcher, calls } = harness((b) => ({
      results: batchOf(b)!.map((c) =>
        c.leaseId === 'lost'
          ? { leaseId: c.leaseId, error: { code: 'CONFLICT', retryable: false, reason: 'LEASE_LOST' } }
          : ok(c.leaseId),
      ),
    }));
    const told = await Promise.all(['a', 'lost', 'c'].map((id) => batcher.report(end(id))));
    expect(told).toEqual(['taken', 'refused', 'taken']);
    expect(calls).toEqual([{ workerId: 'w1', completions: [end('a'), end('lost'), end('c')] }]);
  });

  it('sends what ends while a call is in flight together in the next call', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { batcher, calls } = harness(async (b) => {
      if (calls.length === 1) await gate;
      return { results: batchOf(b)!.map((c) => ok(c.leaseId)) };
    });
    const first = batcher.report(end('a'));
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    const later = [batcher.report(end('b')), batcher.report(end('c'))];
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toHaveLength(1);
    open();
    expect(await Promise.all([first, ...later])).toEqual(['taken', 'taken', 'taken']);
    expect(calls.map((c) => batchOf(c)!.map((x) => x.leaseId))).toEqual([['a'], ['b', 'c']]);
  });

  it(`sends at most ${MAX_COMPLETIONS_PER_CALL} per call, the rest in the next`, async () => {
    const { batcher, calls } = harness((b) => ({ results: batchOf(b)!.map((c) => ok(c.leaseId)) }));
    const ids = Array.from({ length: 100 }, (_, n) => `l${n}`);
    const told = await Promise.all(ids.map((id) => batcher.report(end(id))));
    expect(told.every((t) => t === 'taken')).toBe(true);
    expect(calls.map((c) => batchOf(c)!.length)).toEqual([MAX_COMPLETIONS_PER_CALL, 100 - MAX_COMPLETIONS_PER_CALL]);
    expect(calls.flatMap((c) => batchOf(c)!.map((x) => x.leaseId))).toEqual(ids);
  });

  it('keeps a call well under the body limit: large log tails go in calls of their own', async () => {
    const { batcher, calls } = harness((b) => ({ results: batchOf(b)!.map((c) => ok(c.leaseId)) }));
    const tail = 'x'.repeat(60_000);
    const failed = (leaseId: string): CompletionBody => ({
      leaseId,
      outcome: 'failed',
      error: { code: 'TASK_EXIT_NONZERO', message: 'exit 1', retryable: true },
      logTail: tail,
    });
    await Promise.all(Array.from({ length: 10 }, (_, n) => batcher.report(failed(`f${n}`))));
    expect(calls.length).toBeGreaterThan(1);
    for (const c of calls) expect(Buffer.byteLength(JSON.stringify(c))).toBeLessThan(512 * 1024);
    expect(calls.flatMap((c) => batchOf(c)!).length).toBe(10);
  });

  it('tries again what was not taken: a lease answered retryable, then a whole call that failed (5xx, 429)', async () => {
    let n = 0;
    const { batcher, calls } = harness((b) => {
      n++;
      if (n === 2) throw Object.assign(new Error('503'), { status: 503 });
      if (n === 3) throw Object.assign(new Error('429'), { status: 429 });
      return {
        results: batchOf(b)!.map((c) =>
          c.leaseId === 'flaky' && n === 1
            ? { leaseId: c.leaseId, error: { code: 'INTERNAL', retryable: true } }
            : ok(c.leaseId),
        ),
      };
    });
    const told = await Promise.all([batcher.report(end('a')), batcher.report(end('flaky'))]);
    expect(told).toEqual(['taken', 'taken']);
    expect(calls.map((c) => batchOf(c)!.map((x) => x.leaseId))).toEqual([
      ['a', 'flaky'],
      ['flaky'],
      ['flaky'],
      ['flaky'],
    ]);
  });

  it('refuses for good on any other 4xx of the whole call (a revoked token), and gives up after its tries', async () => {
    const revoked = harness(() => {
      throw Object.assign(new Error('401'), { status: 401 });
    });
    expect(await revoked.batcher.report(end('a'))).toBe('refused');
    const down = harness(() => {
      throw new Error('ECONNREFUSED');
    });
    expect(await down.batcher.report(end('a'))).toBe('untold');
    expect(down.calls).toHaveLength(8);
  });

  it('talks to an API from before batches one lease per call, and stops trying batches once that worked', async () => {
    const { batcher, calls } = harness((b) => {
      if (batchOf(b)) throw Object.assign(new Error('400'), { status: 400, code: 'INVALID_INPUT' });
      return { final: true };
    });
    expect(await Promise.all([batcher.report(end('a')), batcher.report(end('b'))])).toEqual(['taken', 'taken']);
    expect(await batcher.report(end('c'))).toBe('taken');
    expect(calls).toEqual([{ workerId: 'w1', completions: [end('a'), end('b')] }, end('a'), end('b'), end('c')]);
  });

  it('a batch refused for one invalid lease: that one refused alone, the others taken, batches kept', async () => {
    const { batcher, calls } = harness((b) => {
      const all = batchOf(b) ?? [b as CompletionBody];
      if (all.some((c) => c.leaseId === 'bad')) throw Object.assign(new Error('400'), { status: 400 });
      return batchOf(b) ? { results: all.map((c) => ok(c.leaseId)) } : { final: true };
    });
    expect(await Promise.all([batcher.report(end('a')), batcher.report(end('bad'))])).toEqual(['taken', 'refused']);
    expect(await batcher.report(end('c'))).toBe('taken');
    expect(calls.at(-1)).toEqual({ workerId: 'w1', completions: [end('c')] });
  });
});
