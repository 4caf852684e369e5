import { describe, expect, it } from 'vitest';
import { JOB_HASH_FIELDS, jobViews } from './job-record';

describe('the job hash: one list of fields, typed views', () => {
  it('reads each view from an HMGET of its own fields, state always among them', () => {
    for (const view of Object.values(jobViews)) {
      expect(view.fields).toContain('state');
      for (const f of view.fields) expect(JOB_HASH_FIELDS).toContain(f);
    }
    const { fields, parse } = jobViews.feed;
    const h: Record<string, string> = {
      state: 'running',
      fed: '40',
      total: '100',
      priority: '50',
      user: 'alice',
      succeeded: '30',
      failed: '2',
      running: '8',
      costUsd: '1.5',
      deps: '["a"]',
      skipped: '20',
      canary: '3',
      canaryEnd: '23',
    };
    expect(parse(fields.map((f) => h[f] ?? null))).toEqual({
      state: 'running',
      user: 'alice',
      priority: 50,
      total: 100,
      fed: 40,
      succeeded: 30,
      failed: 2,
      running: 8,
      costUsd: 1.5,
      maxCostUsd: undefined,
      canary: 3,
      canaryEnd: 23,
      deps: ['a'],
      depsMet: false,
      preset: 20,
    });
  });

  it('answers undefined for a job with no hash (every field null), not a record of blanks', () => {
    for (const view of Object.values(jobViews)) {
      expect(view.parse(view.fields.map(() => null))).toBeUndefined();
      expect(view.parse(undefined)).toBeUndefined();
    }
  });
});
