import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '@kumo/local';
import { WorkerAgent } from '@kumo/worker';
import { createBus, createLogger, wallClock, type Bus, type Clock } from '@kumo/shared';
import { reportFault, waitForEnd, type JobLike } from '../support/faults';
import { addsUp, client } from '../support/http';
import { testPrefix, deleteKeys } from '../support/prefix';
import { waitFor } from '../support/wait';
import { taskHost } from '../support/task-host';

const TOKEN = 'clock-admin-token-0123456789';
const TOTAL = 300;
const HOUR = 3_600_000;

/** A worker machine whose clock is wrong: an hour ahead from the start, and it jumps another hour mid-job. */
class JumpingClock implements Clock {
  offset = HOUR;
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return wallClock.sleep(ms, signal);
  }
}

/**
 * The control plane keeps time by its own clock (rate buckets, started and finished times are the
 * ingester's), so a worker whose clock is off, or jumps, changes neither the counts nor the rate and
 * ETA. Two workers: one on a good clock, one an hour ahead that jumps another hour halfway through.
 */
describe('a worker whose clock is an hour off, and jumps: counts exact, rate and ETA sane', () => {
  const prefix = testPrefix('clock');
  let cp: ControlPlane;
  let bus: Bus;
  const agents: WorkerAgent[] = [];
  const clock = new JumpingClock();

  beforeAll(async () => {
    const logger = createLogger({ name: 'clock', level: 'warn' });
    cp = await startControlPlane({
      dataDir: mkdtempSync(join(tmpdir(), 'kumo-clock-')),
      host: '127.0.0.1',
      port: 0,
      adminToken: TOKEN,
      redisUrl: inject('redisUrl'),
      prefix,
      logger,
      localPool: { max: 0 },
      cloud: { bus: 'redis', provider: 'local' },
      inheritedEnv: process.env,
    });
    bus = await createBus({ kind: 'redis', redisUrl: inject('redisUrl'), prefix, logger });
    for (const [id, c] of [
      ['skewed', clock],
      ['good', wallClock],
    ] as const) {
      const agent = new WorkerAgent({
        redisUrl: inject('redisUrl'),
        prefix,
        bus,
        pool: 'local',
        id: `${prefix}-${id}`,
        slots: 4,
        lockMs: 3000,
        drainMs: 500,
        heartbeatMs: 1000,
        ...taskHost(),
        clock: c,
        logger,
      });
      await agent.start();
      agents.push(agent);
    }
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await bus.close();
    await cp.stop();
    await deleteKeys(prefix);
  });

  it(`a ${TOTAL}-task job: exactly ${TOTAL} succeeded; the rate is positive and bounded while it runs, the ETA never negative`, async () => {
    const api = client(cp.url, TOKEN);
    const t0 = Date.now();
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'clock',
      source: { snapshot: 'CC-MAIN-2023-50', batches: TOTAL },
      pool: 'local',
      run: { builtin: 'sleep', ms: 50 },
    });
    expect(sub.status).toBe(201);
    const rates: number[] = [];
    let jumped = false;
    // 8 slots of 50 ms tasks: at most 160 a second, 9,600 a minute, whatever any clock says.
    const MAX_RATE = 9600 * 1.5;
    await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body as JobLike;
        const p = j.progress;
        expect(addsUp(p)).toBe(true);
        expect(
          Number.isFinite(p.ratePerMinute) && p.ratePerMinute >= 0 && p.ratePerMinute <= MAX_RATE,
          `rate ${p.ratePerMinute}`,
        ).toBe(true);
        if (p.etaSeconds !== null)
          expect(Number.isFinite(p.etaSeconds) && p.etaSeconds >= 0 && p.etaSeconds < 3600, `eta ${p.etaSeconds}`).toBe(
            true,
          );
        if (j.state === 'running' && p.succeeded > 0) rates.push(p.ratePerMinute);
        if (!jumped && p.succeeded >= TOTAL / 2) {
          clock.offset += HOUR;
          jumped = true;
        }
        return j.state === 'succeeded' || undefined;
      },
      { timeoutMs: 45_000, intervalMs: 100, what: 'the job to succeed' },
    );
    const job = await waitForEnd(api, sub.body.id, 5000);
    const seconds = (Date.now() - t0) / 1000;
    reportFault('clock-jump', job, {
      ratePerMinute: Math.round(job.progress.ratePerMinute),
      maxRateSeen: Math.round(Math.max(...rates)),
    });
    expect(jumped).toBe(true);
    expect(job.progress).toMatchObject({ total: TOTAL, succeeded: TOTAL, failed: 0, etaSeconds: 0 });
    expect(rates.some((r) => r > 0)).toBe(true);
    // The final rate is the job's own: tasks over its wall-clock run time, not an hour of skew.
    expect(job.progress.ratePerMinute).toBeGreaterThan((TOTAL / seconds) * 60 * 0.5);
    expect(job.progress.ratePerMinute).toBeLessThanOrEqual(MAX_RATE);
    // Both workers did work, the skewed one included.
    expect(agents.every((a) => a.stats.succeeded > 0)).toBe(true);
    expect(agents.reduce((s, a) => s + a.stats.succeeded, 0)).toBeGreaterThanOrEqual(TOTAL);
  });
});
