import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkerRegistry } from '@kumo/shared';
import { localWorkerArgv } from '@kumo/provisioner';
import { testPrefix } from '../support/prefix';
import { waitFor } from '../support/wait';
import { startFakeMetadata, type FakeMetadata } from './metadata-server';

/**
 * The worker's main.ts as a VM runs it (its own process), with KUMO_METADATA_URL on a local metadata
 * server: how it acts on a preemption notice, on SIGTERM during one, and on a restart after one.
 */

interface Run {
  child: ChildProcess;
  lines: () => { msg: string; why?: string; handBackNow?: boolean }[];
  /** Everything it printed, for failure messages. */
  output: () => string;
  exit: Promise<number | null>;
}

describe('the worker process on a VM that is preempted', () => {
  const redisUrl = inject('redisUrl');
  const prefix = testPrefix('preempt');
  const pool = 'spot';
  let holding: FakeMetadata;
  let notHolding: FakeMetadata;
  let redis: Redis;
  let registry: WorkerRegistry;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    [holding, notHolding] = await Promise.all([startFakeMetadata(), startFakeMetadata({ hold: false })]);
    redis = new Redis(redisUrl);
    registry = new WorkerRegistry(redis, { prefix });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await Promise.all([holding.close(), notHolding.close()]);
  });

  function startWorker(name: string, metadataUrl: string, extra: Record<string, string> = {}): Run {
    const [cmd, ...args] = localWorkerArgv();
    const child = spawn(cmd!, args, {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: redisUrl,
        KUMO_PREFIX: prefix,
        KUMO_BUS: 'redis',
        KUMO_POOL: pool,
        KUMO_WORKER_NAME: name,
        KUMO_METADATA_URL: metadataUrl,
        KUMO_HEARTBEAT_MS: '200',
        KUMO_PREEMPTION_POLL_MS: '100',
        LOG_LEVEL: 'info',
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = (): ReturnType<Run['lines']> =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ReturnType<Run['lines']>[number]);
    return { child, lines, output: () => out, exit };
  }

  const registered = async (name: string): Promise<boolean> => (await registry.list(pool)).some((w) => w.id === name);
  const shutdownLine = (run: Run) => run.lines().find((l) => l.msg === 'worker shutting down');

  it('on the notice, hands back at once, deregisters and exits 0', async () => {
    const run = startWorker('vm-notice', holding.urlFor('vm-notice'));
    await waitFor(() => registered('vm-notice'), { timeoutMs: 20_000, what: 'the worker to register' });
    holding.setPreempted('vm-notice', true);
    const noticed = Date.now();
    expect(await run.exit, run.output()).toBe(0);
    expect(Date.now() - noticed).toBeLessThan(5_000);
    expect(shutdownLine(run)).toMatchObject({ why: 'preempted', handBackNow: true });
    expect(await registered('vm-notice')).toBe(false);
  });

  it('restarted on a VM already being preempted, it exits without leasing anything', async () => {
    holding.setPreempted('vm-restarted', true);
    const run = startWorker('vm-restarted', holding.urlFor('vm-restarted'));
    expect(await run.exit, run.output()).toBe(0);
    expect(run.lines().some((l) => l.msg === 'this VM is already being preempted; not starting')).toBe(true);
    expect(run.lines().some((l) => l.msg === 'worker started')).toBe(false);
    expect(await registered('vm-restarted')).toBe(false);
  });

  it('on SIGTERM it asks the metadata server: preempted, it hands back at once; otherwise it drains', async () => {
    // A server that does not hold questions, and a long poll: only the SIGTERM-time question can see the flip.
    const slow = { KUMO_PREEMPTION_POLL_MS: '60000' };
    const [preempted, deploy] = [
      startWorker('vm-term-1', notHolding.urlFor('vm-term-1'), slow),
      startWorker('vm-term-2', notHolding.urlFor('vm-term-2'), slow),
    ];
    await waitFor(async () => (await registered('vm-term-1')) && (await registered('vm-term-2')), {
      timeoutMs: 20_000,
      what: 'both workers to register',
    });
    // Both have asked their first questions and are now waiting out the poll interval: the startup check,
    // the watcher's plain question and the held one that follows it at once (answered at once here). Only
    // then is the flip unseen by the watcher; counting two let it land before the held question.
    const heldAsked = (vm: string): boolean =>
      notHolding.requests.some((r) => r.vm === vm && r.query.wait_for_change === 'true');
    await waitFor(async () => heldAsked('vm-term-1') && heldAsked('vm-term-2'), { what: 'the first questions' });
    notHolding.setPreempted('vm-term-1', true);
    preempted.child.kill('SIGTERM');
    deploy.child.kill('SIGTERM');
    expect(await preempted.exit, preempted.output()).toBe(0);
    expect(await deploy.exit, deploy.output()).toBe(0);
    expect(shutdownLine(preempted)).toMatchObject({ why: 'SIGTERM (preempted)', handBackNow: true });
    expect(shutdownLine(deploy)).toMatchObject({ why: 'SIGTERM', handBackNow: false });
  });
});
