import { describe, expect, it } from 'vitest';
import { effectivePolicy, jobSpecSchema } from '../catalog/index';
import type { JobState } from '../jobs/job-state';
import {
  admit,
  deliveryOf,
  QUEUE_MAX_STALLED,
  queueWorkerTiming,
  settle,
  settleAdmission,
  type JobView,
} from './task-lifecycle';

const spec = jobSpecSchema.parse({
  kind: 'extraction',
  name: 'x',
  source: { snapshot: 'S', batches: 10 },
  pool: 'p',
  run: { builtin: 'noop' },
  retry: { maxAttempts: 2, maxInfraRetries: 1 },
});
const gang = jobSpecSchema.parse({
  kind: 'training',
  name: 'g',
  model: { name: 'm' },
  target: { steps: 1 },
  pool: 'p',
  nodes: 2,
  run: { builtin: 'noop' },
});
const view = (state: JobState, s = spec): JobView => ({ state, spec: s, policy: effectivePolicy(s) });
const fresh = { attempt: 1, infraLosses: 0 };

describe('the task lifecycle', () => {
  it('admits in one order: gone or ended, other pool, done, paused, gang elsewhere, infra budget, run', () => {
    const base = { delivery: fresh, taskDone: false, runsGangs: true, pool: 'p' };
    expect(admit({ ...base, job: undefined })).toEqual({ verdict: 'skip', why: 'job-gone' });
    expect(admit({ ...base, job: view('cancelled'), taskDone: true })).toEqual({ verdict: 'skip', why: 'job-ended' });
    expect(admit({ ...base, job: view('running'), pool: 'q' })).toEqual({ verdict: 'skip', why: 'other-pool' });
    // Done is checked on every attempt: a lost worker's task comes back with the same attempt number.
    expect(admit({ ...base, job: view('paused'), taskDone: true })).toEqual({ verdict: 'skip', why: 'task-done' });
    expect(admit({ ...base, job: view('paused') })).toMatchObject({ verdict: 'wait', why: 'paused' });
    expect(admit({ ...base, job: view('running', gang), runsGangs: false })).toMatchObject({
      verdict: 'wait',
      why: 'gang-not-here',
    });
    expect(admit({ ...base, job: view('running'), delivery: { attempt: 1, infraLosses: 1 } })).toEqual({
      verdict: 'run',
    });
    expect(admit({ ...base, job: view('running'), delivery: { attempt: 1, infraLosses: 2 } })).toMatchObject({
      verdict: 'fail',
      error: { code: 'INFRA_BUDGET_EXHAUSTED', retryable: false },
    });
  });

  it('counts stalls and hand-backs as infrastructure losses, and keeps BullMQ’s own stall limit out of reach', () => {
    expect(deliveryOf({ attemptsMade: 1, stalledCounter: 2, data: { j: 'j', i: 0, h: 3 } })).toEqual({
      attempt: 2,
      infraLosses: 5,
    });
    expect(queueWorkerTiming(1000)).toEqual({
      lockDuration: 1000,
      stalledInterval: 1000,
      maxStalledCount: QUEUE_MAX_STALLED,
    });
    // maxInfraRetries is at most 100 in the catalog.
    expect(QUEUE_MAX_STALLED).toBeGreaterThan(100);
  });

  it('settles each end with its event and queue move', () => {
    const p = { maxAttempts: 2 };
    const err = { code: 'TASK_EXIT_NONZERO', message: 'exit 1', retryable: true };
    expect(settle({ end: 'succeeded', result: { n: 1 } }, 1, p, 0)).toEqual({
      event: { t: 'ok', result: { n: 1 } },
      move: { move: 'complete', value: 'ok' },
    });
    expect(settle({ end: 'failed', error: err }, 1, p, 0)).toMatchObject({
      event: { t: 'r' },
      move: { move: 'retry' },
    });
    expect(settle({ end: 'failed', error: err }, 2, p, 0)).toMatchObject({ event: { t: 'f' }, move: { move: 'fail' } });
    expect(settle({ end: 'stopped', why: 'cancel' }, 1, p, 0)).toEqual({
      event: { t: 'rel' },
      move: { move: 'complete', value: 'cancelled' },
    });
    expect(settle({ end: 'stopped', why: 'handback' }, 1, p, 5)).toEqual({
      event: { t: 'rel' },
      move: { move: 'delay', at: 5, handBack: true },
    });
    // Preempted for a job of higher priority: back in the queue at once, no attempt, no infrastructure loss.
    expect(settle({ end: 'stopped', why: 'preempted' }, 1, p, 5)).toEqual({
      event: { t: 'rel' },
      move: { move: 'delay', at: 5, handBack: false },
    });
    expect(settle({ end: 'stopped', why: 'paused' }, 1, p, 5)).toMatchObject({
      event: { t: 'rel' },
      move: { move: 'delay', handBack: false },
    });
    expect(settle({ end: 'stopped', why: 'lost' }, 1, p, 0)).toEqual({ move: { move: 'leave' } });
  });

  it('a delivery that lost its lock moves nothing and reports only a success', () => {
    const p = { maxAttempts: 2 };
    expect(settle({ end: 'succeeded' }, 1, p, 0, false)).toEqual({ event: { t: 'ok' }, move: { move: 'leave' } });
    expect(settle({ end: 'failed', error: { code: 'X', message: 'x', retryable: false } }, 1, p, 0, false)).toEqual({
      move: { move: 'leave' },
    });
  });

  it('a task not admitted is completed as skipped, delayed with no loss, or failed with its event', () => {
    expect(settleAdmission({ verdict: 'skip', why: 'task-done' }, 0)).toEqual({
      move: { move: 'complete', value: 'skipped' },
    });
    expect(settleAdmission({ verdict: 'wait', why: 'paused', retryInMs: 3000 }, 10)).toEqual({
      move: { move: 'delay', at: 3010, handBack: false },
    });
    // A task lost before (its lost copy's `s` may still count it as running) frees that place while it waits.
    const lost = admit({
      job: view('paused'),
      delivery: { attempt: 1, infraLosses: 1 },
      taskDone: false,
      runsGangs: true,
      pool: 'p',
    });
    expect(lost).toMatchObject({ verdict: 'wait', release: true });
    expect(settleAdmission(lost as Exclude<typeof lost, { verdict: 'run' }>, 10)).toEqual({
      event: { t: 'rel' },
      move: { move: 'delay', at: 3010, handBack: false },
    });
    expect(admit({ job: view('paused'), delivery: fresh, taskDone: false, runsGangs: true, pool: 'p' })).toMatchObject({
      release: false,
    });
    const error = { code: 'INFRA_BUDGET_EXHAUSTED', message: 'm', retryable: false };
    expect(settleAdmission({ verdict: 'fail', error }, 0)).toEqual({
      event: { t: 'f', err: error },
      move: { move: 'fail', error },
    });
  });
});
