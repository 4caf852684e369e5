import { describe, expect, it } from 'vitest';
import { jobSpecSchema, listedInputRange, taskCount } from './index';
import { simulationInputSchema } from '../simulation/simulation-input';
import { taskEnvironment } from './task-env';

const parse = (source: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  jobSpecSchema.safeParse({
    kind: 'extraction',
    name: 'n',
    source: { snapshot: 'S', ...source },
    run: { builtin: 'noop' },
    ...extra,
  });
const issues = (r: ReturnType<typeof parse>): { path: PropertyKey[]; message: string }[] =>
  r.success ? [] : r.error.issues.map((i) => ({ path: i.path, message: i.message }));

describe('extraction sources', () => {
  it('exactly one of batches, paths, listing; batches may go with listing (a cap)', () => {
    expect(parse({ batches: 3 }).success).toBe(true);
    expect(parse({ paths: ['a'] }).success).toBe(true);
    expect(parse({ listing: 'warc.paths.gz' }).success).toBe(true);
    expect(parse({ listing: 'warc.paths.gz', batches: 10 }).success).toBe(true);
    const rule =
      'give exactly one of source.batches, source.paths or source.listing (source.batches may go with source.listing, as a cap on its lines)';
    for (const bad of [
      {},
      { batches: 3, paths: ['a'] },
      { listing: 'l', paths: ['a'] },
      { listing: 'l', paths: ['a'], batches: 1 },
    ]) {
      expect(issues(parse(bad))).toEqual([{ path: ['source'], message: rule }]);
    }
    expect(issues(parse({ batches: 3, listingSha256: 'a'.repeat(64) }))).toEqual([
      { path: ['source', 'listingSha256'], message: 'source.listingSha256 goes only with source.listing' },
    ]);
    expect(parse({ listing: 'l', listingSha256: 'A'.repeat(64) }).success).toBe(false);
    expect(parse({ listing: 'x'.repeat(2049) }).success).toBe(false);
    expect(parse({ listing: '' }).success).toBe(false);
  });

  it("a listing job's task reads lines [i*batchSize, min((i+1)*batchSize, batches)) given to it; never a synthetic batch name", () => {
    const r = parse({ listing: 'warc.paths', batches: 7, listingSha256: 'a'.repeat(64) }, { batchSize: 3 });
    if (!r.success) throw r.error;
    const spec = r.data;
    expect(taskCount(spec)).toBe(3);
    expect([0, 1, 2].map((i) => listedInputRange(spec, i))).toEqual([
      { from: 0, to: 3 },
      { from: 3, to: 6 },
      { from: 6, to: 7 },
    ]);
    const t = { jobId: 'job_x', spec, index: 2, attempt: 1, workerId: 'w' };
    expect(() => taskEnvironment(t, {})).toThrow(expect.objectContaining({ code: 'TASK_INVALID' }));
    expect(taskEnvironment({ ...t, inputs: ['crawl-data/S/x-6.warc.gz'] }, {})).toMatchObject({
      KUMO_TASK_INPUTS: '["crawl-data/S/x-6.warc.gz"]',
      KUMO_TASK_COUNT: '3',
      KUMO_SNAPSHOT: 'S',
    });
    // Other sources have no listed range and keep their inputs.
    const counted = parse({ batches: 2 });
    if (!counted.success) throw counted.error;
    expect(listedInputRange(counted.data, 1)).toBeUndefined();
    expect(taskEnvironment({ ...t, spec: counted.data, index: 1 }, {}).KUMO_TASK_INPUTS).toBe('["S/batch-1"]');
  });

  it('a simulation reads no listing: it needs source.batches, the count the listing would give', () => {
    const sim = (source: Record<string, unknown>) =>
      simulationInputSchema.safeParse({
        job: { kind: 'extraction', name: 'n', source: { snapshot: 'S', ...source }, run: { builtin: 'noop' } },
        pool: { zones: ['z'], max: 1 },
      });
    expect(sim({ listing: 'https://h/warc.paths.gz', batches: 90_000 }).success).toBe(true);
    const r = sim({ listing: 'https://h/warc.paths.gz' });
    expect(r.success ? [] : r.error.issues.map((i) => i.path)).toEqual([['job', 'source', 'batches']]);
  });
});
