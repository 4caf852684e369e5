import { describe, expect, it } from 'vitest';
import { finalCounts, formatEta, type Progress, progressLine, renderTable } from '@kumo/cli';

// Local-time constructors, so the expectations hold in any TZ the tests run in.
const NOW = new Date(2024, 2, 26, 9, 30); // a Tuesday
const at = (d: Date): string => d.toISOString();

function progress(over: Partial<Progress>): Progress {
  return {
    total: 90_000,
    queued: 59_000,
    running: 1_000,
    succeeded: 29_900,
    failed: 100,
    skipped: 0,
    unit: 'batches',
    percent: 33.3,
    ratePerMinute: 412.4,
    etaSeconds: 16_200,
    estimatedCompletionAt: at(new Date(2024, 2, 26, 14, 0)),
    costUsd: 0,
    forecastCostUsd: null,
    ...over,
  };
}

describe('progress formatting', () => {
  it('reads as "30,000/90,000 batches | 33% | 412/min | ETA 14:00", counting failed tasks as finished', () => {
    expect(progressLine(progress({}), NOW)).toBe('30,000/90,000 batches | 33% | 412/min | ETA 14:00');
  });

  it('a skip reads "30,000 / 90,000 batches (30,000 skipped)" from the start: skipped tasks are done', () => {
    const skipped = progress({
      total: 90_000,
      skipped: 30_000,
      succeeded: 0,
      failed: 0,
      running: 0,
      queued: 60_000,
      percent: 33.3,
      etaSeconds: null,
      estimatedCompletionAt: null,
      ratePerMinute: 0,
    });
    expect(progressLine(skipped, NOW)).toBe('30,000/90,000 batches (30,000 skipped) | 33% | 0/min | ETA --:--');
    expect(finalCounts(skipped)).toBe('0 succeeded, 0 failed, 30,000 skipped, 60,000 not run of 90,000 batches');
  });

  it('shows 100% only when every task has finished (the server floors, and so do we)', () => {
    expect(progressLine(progress({ percent: 99.9 }), NOW)).toContain('| 99% |');
  });

  it('ETA: a clock today, a weekday within the week, a date beyond; "done" at zero; "--:--" with no rate', () => {
    expect(formatEta(100, at(new Date(2024, 2, 26, 23, 59)), NOW)).toBe('23:59');
    expect(formatEta(100, at(new Date(2024, 2, 28, 7, 5)), NOW)).toBe('Thu 07:05');
    expect(formatEta(100, at(new Date(2024, 3, 12, 14, 0)), NOW)).toBe('2024-04-12 14:00');
    expect(formatEta(0, null, NOW)).toBe('done');
    expect(formatEta(null, null, NOW)).toBe('--:--');
  });

  it('final counts name what a cancel left undone', () => {
    expect(finalCounts(progress({ queued: 4_000, running: 16, succeeded: 984, failed: 0, total: 5_000 }))).toBe(
      '984 succeeded, 0 failed, 4,016 not run of 5,000 batches',
    );
  });
});

describe('renderTable', () => {
  it('aligns columns under their headers, two spaces apart, with no trailing blanks', () => {
    const out = renderTable(
      ['ID', 'STATE'],
      [
        ['job_a', 'running'],
        ['job_long_id', 'ok'],
      ],
    );
    expect(out).toBe('ID           STATE\njob_a        running\njob_long_id  ok\n');
  });
});
