import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '@kumo/shared';
import type { ControlPlane } from '@kumo/local';
import { startTestControlPlane } from '../support/control-plane';
import type { client } from '../support/http';
import { taskWritableDir } from '../support/task-dirs';
import { taskPids } from '../support/task-processes';
import { GANG_TRAINER } from '../support/toy-training';
import { EXAMPLES } from '../examples/task-process';
import { waitFor } from '../support/wait';

interface LedgerRun {
  rank: number;
  attempt: number;
  resume: string;
  hosts: string[];
  size: number;
  nnodes: number;
  node_rank: number;
  /** The worker (local VM) that ran it. */
  worker: string;
}

/**
 * A training job of `nodes: 2`: two ranks on two worker processes (local "VMs", one slot each) that meet
 * over TCP at MASTER_ADDR:MASTER_PORT, as torchrun's ranks would.
 */
describe('a gang training job (nodes: 2), on local worker processes', () => {
  let api: ReturnType<typeof client>;
  let cp: ControlPlane;
  let stop: () => Promise<void>;
  // The ranks (their job's uid, not root) append to a ledger here; the workers' artifacts are below it.
  const dir = taskWritableDir('kumo-gang-');

  beforeAll(async () => {
    // A 3 s task lock: a worker that vanishes loses its rank within seconds, not half a minute; a
    // worker told to stop drains for 1 s before it hands its tasks back.
    ({ api, cp, stop } = await startTestControlPlane('gang', {
      workerEnv: {
        LOG_LEVEL: 'warn',
        KUMO_ARTIFACTS_DIR: join(dir, 'artifacts'),
        KUMO_TASK_LOCK_MS: '3000',
        KUMO_DRAIN_MS: '1000',
      },
    }));
    const pool = await api.put('/v1/pools/gang', {
      machineType: 'local',
      gpu: { type: 'none', count: 0 },
      spot: false,
      zones: ['local'],
      min: 0,
      max: 2,
      slotsPerVm: 1,
      idleTimeoutSeconds: 60,
    });
    expect(pool.status, JSON.stringify(pool.body)).toBeLessThan(300);
  });
  afterAll(async () => {
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const submit = async (name: string, env: Record<string, string>) => {
    const sub = await api.post('/v1/jobs', {
      kind: 'training',
      name,
      model: { name: 'ja-tiny' },
      target: { steps: 10 },
      pool: 'gang',
      nodes: 2,
      rendezvous: { port: await freePort(), timeoutSeconds: 60 },
      retry: { backoffSeconds: 1 },
      env: { LEDGER: join(dir, `${name}.jsonl`), ...env },
      run: { command: ['python3', '-c', GANG_TRAINER] },
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    return sub.body as { id: string; progress: { total: number; unit: string } };
  };
  const finished = (id: string) =>
    waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${id}`)).body;
        if (j.state === 'failed')
          throw new Error(
            `gang job failed: ${JSON.stringify((await api.get(`/v1/jobs/${id}/tasks?state=erroring`)).body)}`,
          );
        return j.state === 'succeeded' ? j : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `gang job ${id} to succeed` },
    );
  const ledger = (name: string): LedgerRun[] =>
    readFileSync(join(dir, `${name}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerRun);

  /**
   * Once the job has succeeded with both ranks: the record, each rank's runs in order, and why (a rank
   * charged an attempt it should not have been has a failure record: its error and log tail).
   */
  const succeeded = async (name: string, id: string) => {
    const done = await finished(id);
    expect(done.progress).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
    const runs = ledger(name);
    const why = JSON.stringify({
      runs,
      failures: (await api.get(`/v1/jobs/${id}/tasks?state=erroring`)).body,
      handBacks: done.handBacks,
    });
    return { done, why, runsOf: (rank: number) => runs.filter((r) => r.rank === rank) };
  };
  /** The pid of a local worker ("VM") by its name. */
  const workerPid = (worker: string): number => {
    const pid = cp.local?.pids()[worker];
    if (!pid) throw new Error(`no local worker ${worker}`);
    return pid;
  };
  /** Waits until both ranks met and rank 0 recorded its checkpoint (the gang is training); their first runs. */
  const training = (name: string, id: string): Promise<LedgerRun[]> =>
    waitFor(
      async () => {
        const runs = existsSync(join(dir, `${name}.jsonl`)) ? ledger(name) : [];
        return runs.length === 2 && (await api.get(`/v1/jobs/${id}`)).body.checkpoint?.step === 10 ? runs : undefined;
      },
      { timeoutMs: 30_000, what: 'both ranks to meet and rank 0 to checkpoint' },
    );

  it('both ranks start together on two VMs, with the gang’s variables, and meet; the job counts 2 nodes', async () => {
    const job = await submit('gang-ok', {});
    expect(job.progress).toMatchObject({ total: 2, unit: 'nodes' });
    const done = await finished(job.id);
    expect(done.progress).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
    const runs = ledger('gang-ok').sort((a, b) => a.rank - b.rank);
    expect(runs.map((r) => [r.rank, r.attempt, r.size, r.nnodes, r.node_rank])).toEqual([
      [0, 1, 2, 2, 0],
      [1, 1, 2, 2, 1],
    ]);
    // Each rank knows where every rank runs; the local "VMs" are this machine.
    for (const r of runs) expect(r.hosts).toEqual(['127.0.0.1', '127.0.0.1']);
    const { results } = (await api.get(`/v1/jobs/${job.id}/results`)).body as {
      results: { index: number; result: { worker: string } }[];
    };
    expect(results.map((r) => r.result)).toMatchObject([{ rank: 0, peers: [1] }, { rank: 1 }]);
    // One rank per VM: two different workers ran them.
    expect(new Set(results.map((r) => r.result.worker)).size).toBe(2);
  });

  it('when one rank fails, the other is stopped and handed back, and the whole gang runs again, from the checkpoint', async () => {
    const job = await submit('gang-retry', { FAIL_RANK: '1', HOLD_S: '3' });
    const { done, runsOf, why } = await succeeded('gang-retry', job.id);
    // Rank 1 failed once (its second attempt succeeded); rank 0 was stopped mid-run, used no attempt,
    // and met rank 1 again in the next generation, resuming from the checkpoint it wrote in the first.
    expect(
      runsOf(1).map((r) => r.attempt),
      why,
    ).toEqual([1, 2]);
    const rank0 = runsOf(0);
    expect(
      rank0.map((r) => r.attempt),
      why,
    ).toEqual([1, 1]);
    expect(rank0[0]!.resume).toBe('');
    expect(rank0[1]!.resume).toMatch(/ckpt-10\.json$/);
    expect(done.handBacks).toBeGreaterThanOrEqual(1);
    const { tasks } = (await api.get(`/v1/jobs/${job.id}/tasks?state=erroring`)).body as { tasks: unknown[] };
    expect(tasks).toEqual([]);
  });

  it('when a rank’s VM is lost (its worker killed), its task comes back, and the whole gang runs again together', async () => {
    const job = await submit('gang-lost', { HOLD_S: '60' });
    const first = await training('gang-lost', job.id);
    // The VM of rank 1 goes away at once, without a word to anyone: its worker killed, and the trainer
    // dies with it (a task never outlives its worker), as it would with the VM.
    const lost = first.find((r) => r.rank === 1)!;
    const rank1 = { KUMO_JOB_ID: job.id, KUMO_GANG_RANK: '1', KUMO_WORKER_ID: lost.worker };
    expect(taskPids(rank1).length).toBeGreaterThan(0);
    process.kill(workerPid(lost.worker), 'SIGKILL');
    await waitFor(async () => taskPids(rank1).length === 0 || undefined, {
      timeoutMs: 10_000,
      what: "rank 1's trainer to die with its worker",
    });
    const { runsOf, why } = await succeeded('gang-lost', job.id);
    // Both ranks ran again, with no attempt used (a lost VM is not the task's failure), from the checkpoint.
    expect(
      runsOf(1).map((r) => r.attempt),
      why,
    ).toEqual([1, 1]);
    expect(
      runsOf(0).map((r) => r.attempt),
      why,
    ).toEqual([1, 1]);
    expect(runsOf(0)[1]!.resume).toMatch(/ckpt-10\.json$/);
    expect(runsOf(1)[1]!.worker).not.toBe(lost.worker);
  });

  it('when a rank’s VM is preempted (its worker stops), the survivor is handed back even though its trainer fails for want of the peer: no attempt used', async () => {
    const job = await submit('gang-preempt', { HOLD_S: '60', WATCH_PEERS: '1' });
    const first = await training('gang-preempt', job.id);
    process.kill(workerPid(first.find((r) => r.rank === 1)!.worker), 'SIGTERM');
    const { done, runsOf, why } = await succeeded('gang-preempt', job.id);
    expect(
      runsOf(0).map((r) => r.attempt),
      why,
    ).toEqual([1, 1]);
    expect(
      runsOf(1).map((r) => r.attempt),
      why,
    ).toEqual([1, 1]);
    expect(done.handBacks).toBeGreaterThanOrEqual(2);
    const { tasks } = (await api.get(`/v1/jobs/${job.id}/tasks?state=erroring`)).body as { tasks: unknown[] };
    expect(tasks).toEqual([]);
  });

  it('examples/gang: the script counter as a gang of 2 on the example pool; the gathered totals are the whole corpus’s', async () => {
    expect(
      (await api.put('/v1/pools/gang', JSON.parse(readFileSync(join(EXAMPLES, 'gang', 'pool-local.json'), 'utf8'))))
        .status,
    ).toBeLessThan(300);
    const spec = parse(readFileSync(join(EXAMPLES, 'gang', 'count-scripts.yaml'), 'utf8')) as {
      rendezvous: { port: number };
    };
    const sub = await api.post('/v1/jobs', { ...spec, rendezvous: { ...spec.rendezvous, port: await freePort() } });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    await finished(sub.body.id);
    const { results } = (await api.get(`/v1/jobs/${sub.body.id}/results`)).body as {
      results: { index: number; result: { lines: number; gang?: { lines: number } } }[];
    };
    const corpus = readFileSync(join(EXAMPLES, 'train-tiny', 'corpus-ja.txt'), 'utf8');
    const corpusLines = corpus.split('\n').length - (corpus.endsWith('\n') ? 1 : 0);
    expect(results.map((r) => r.result.lines).reduce((a, b) => a + b, 0)).toBe(corpusLines);
    expect(results[0]!.result.gang?.lines).toBe(corpusLines);
  });

  it('a rank waiting for its gang when the job is paused goes back with no attempt used, and the gang meets once resumed', async () => {
    // One of the pool's two VMs is busy with another job, so the gang's first rank waits on the other.
    const blocker = await api.post('/v1/jobs', {
      kind: 'cleaning',
      name: 'blocker',
      input: { count: 1, prefix: 'shard-' },
      pool: 'gang',
      run: { builtin: 'sleep', ms: 120_000 },
    });
    expect(blocker.status).toBe(201);
    await waitFor(
      async () => ((await api.get(`/v1/jobs/${blocker.body.id}`)).body.progress.running === 1 ? true : undefined),
      { timeoutMs: 30_000, what: 'the blocker to run' },
    );
    const job = await submit('gang-paused', {});
    await waitFor(async () => ((await api.get(`/v1/jobs/${job.id}`)).body.progress.running === 1 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'a rank to wait for its gang',
    });
    expect((await api.post(`/v1/jobs/${job.id}/pause`, {})).status).toBe(200);
    await waitFor(async () => ((await api.get(`/v1/jobs/${job.id}`)).body.progress.running === 0 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'the waiting rank to go back',
    });
    expect((await api.post(`/v1/jobs/${job.id}/resume`, {})).status).toBe(200);
    expect((await api.post(`/v1/jobs/${blocker.body.id}/cancel`, {})).status).toBe(200);
    const { runsOf, why } = await succeeded('gang-paused', job.id);
    // No trainer ran before the gang met: one run per rank, first attempts.
    expect(
      [...runsOf(0), ...runsOf(1)].map((r) => r.attempt),
      why,
    ).toEqual([1, 1]);
  });

  it('refuses a gang its pool cannot hold whole (more nodes than VMs, more than one slot per VM), a gang with a canary, and a rehearsal of a gang on too small a pool', async () => {
    const spec = (pool: string, nodes: number) => ({
      kind: 'training',
      name: 'too-big',
      model: { name: 'm' },
      target: { steps: 1 },
      pool,
      nodes,
      run: { builtin: 'noop' },
    });
    const tooMany = await api.post('/v1/jobs', spec('gang', 3));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({
      code: 'INVALID_INPUT',
      issues: [{ path: ['nodes'], message: "its pool 'gang' has at most 2 VMs" }],
    });
    await api.put('/v1/pools/shared', {
      machineType: 'local',
      gpu: { type: 'none', count: 0 },
      spot: false,
      zones: ['local'],
      min: 0,
      max: 4,
      slotsPerVm: 2,
    });
    const shared = await api.post('/v1/jobs', spec('shared', 2));
    expect(shared.status).toBe(400);
    expect(shared.body.error.issues[0].message).toMatch(/slotsPerVm 1/);
    // A canary would feed some ranks alone: they could never meet.
    const canary = await api.post('/v1/jobs', { ...spec('gang', 2), canary: { tasks: 1 } });
    expect(canary.status).toBe(400);
    expect(canary.body.error.issues).toEqual([{ path: ['canary'], message: 'not with nodes > 1' }]);
    // Nor is a gang rehearsed on a simulated pool that cannot hold it whole (gangs themselves are: test/simulation/gang.test.ts).
    const sim = await api.post('/v1/simulations', {
      job: spec('gang', 2),
      pool: { machineType: 'a2-highgpu-1g', zones: ['us-central1-a'], max: 1 },
    });
    expect(sim.status).toBe(400);
    expect(sim.body.error.issues).toMatchObject([{ path: ['job', 'nodes'] }]);
  });
});
