import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '@kumo/local';
import { startTestControlPlane } from '../support/control-plane';
import type { client } from '../support/http';
import { freePort } from '../support/redis-server';
import { checkpointTrainer, stepScorer } from '../support/toy-training';
import { waitFor } from '../support/wait';
import { runKumo, startKumo } from './run-kumo';

const JOB_ID = /^job_[0-9a-z]{18}$/;

describe('the kumo CLI against a running control plane', () => {
  let cp: ControlPlane;
  let env: Record<string, string>;
  let api: ReturnType<typeof client>;
  let token: string;
  let stop: (() => Promise<void>) | undefined;
  let dir: string;
  const kumo = (args: string[], input?: string) => runKumo(args, { env, ...(input === undefined ? {} : { input }) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kumo-cli-'));
    // Its data in the test's own folder, removed with the files the tests write there.
    ({ cp, api, token, stop } = await startTestControlPlane('cli', {
      dataDir: dir,
      localPool: { max: 2, slotsPerVm: 16, idleTimeoutSeconds: 30 },
      workerEnv: { KUMO_DRAIN_MS: '2000' },
    }));
    env = { KUMO_URL: cp.url, KUMO_TOKEN: token };
  });
  afterAll(async () => {
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('submits the YAML example, watches it to 100 % (exit 0), and lists and shows it as succeeded', async () => {
    const sub = await kumo(['submit', 'examples/quick-noop.yaml']);
    expect(sub.stderr).toBe('');
    expect(sub.code).toBe(0);
    const id = sub.stdout.trim();
    expect(id).toMatch(JOB_ID);

    const watch = await kumo(['watch', id]);
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout).toBe(`${id} succeeded: 2,000 succeeded, 0 failed, 0 not run of 2,000 batches\n`);
    expect(watch.stderr).toContain('2,000/2,000 batches | 100% |');

    const [list, table, shown, human] = await Promise.all([
      kumo(['jobs', '--json']),
      kumo(['jobs', '--state', 'succeeded']),
      kumo(['job', id, '--json']),
      kumo(['job', id]),
    ]);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout).jobs.find((j: { id: string }) => j.id === id);
    expect(listed).toMatchObject({ name: 'quick-noop', state: 'succeeded' });
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+KIND\s+POOL\s+STATE\s+DONE/);
    expect(table.stdout).toMatch(
      new RegExp(`^${id}\\s+quick-noop\\s+extraction\\s+local\\s+succeeded\\s+2,000/2,000 batches`, 'm'),
    );
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id,
      state: 'succeeded',
      progress: { total: 2000, succeeded: 2000, failed: 0 },
    });
    expect(human.stdout).toMatch(/^progress: +2,000\/2,000 batches \| 100% \| [\d,]+\/min \| ETA done$/m);
  });

  it("job shows a training job's evaluated checkpoints as a table (and under evaluations with --json)", async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'training',
      name: 'cli-train',
      model: { name: 'm' },
      target: { steps: 1000 },
      pool: 'local',
      run: { command: ['python3', '-c', checkpointTrainer([500, 1000])] },
      evaluate: { benchmarks: ['jglue-mini'], run: { command: ['python3', '-c', stepScorer(2000)] } },
    });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    await waitFor(
      async () => {
        const e = (await api.get(`/v1/jobs/${id}/evaluations`)).body.evaluations as { state: string }[];
        return e.length === 2 && e.every((x) => x.state === 'succeeded') ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'both checkpoints evaluated' },
    );
    const [human, json] = await Promise.all([kumo(['job', id]), kumo(['job', id, '--json'])]);
    expect(human.code, human.stderr).toBe(0);
    const table = human.stdout.slice(human.stdout.indexOf('evaluations:')).split('\n');
    expect(table[1]).toMatch(/^STEP\s+STATE\s+JGLUE-MINI\s+JOB$/);
    expect(table[2]).toMatch(/^500\s+succeeded\s+0\.25\s+job_[0-9a-z]{18}$/);
    expect(table[3]).toMatch(/^1,000\s+succeeded\s+0\.5\s+job_[0-9a-z]{18}$/);
    expect(
      JSON.parse(json.stdout).evaluations.map((e: { step: number; scores: Record<string, number> }) => [
        e.step,
        e.scores,
      ]),
    ).toEqual([
      [500, { 'jglue-mini': 0.25 }],
      [1000, { 'jglue-mini': 0.5 }],
    ]);
  });

  it('pause holds a sleeping job (read from stdin) and resume goes on, a watch staying through both; cancel stops it and the watch exits 2', async () => {
    const spec = {
      kind: 'extraction',
      name: 'cli-sleepy',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 5000 },
      pool: 'local',
      run: { builtin: 'sleep', ms: 300 },
    };
    const sub = await kumo(['submit', '-', '--json'], JSON.stringify(spec));
    expect(sub.code, sub.stderr).toBe(0);
    const id = JSON.parse(sub.stdout).id as string;
    expect(id).toMatch(JOB_ID);

    const watch = startKumo(['watch', id], { env });
    await waitFor(async () => ((await api.get(`/v1/jobs/${id}`)).body.progress.succeeded > 0 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'tasks to run',
    });
    const pause = await kumo(['pause', id]);
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toMatch(new RegExp(`^${id} paused: [\\d,]+ tasks still running finish; [\\d,]+ wait\n$`));
    expect((await api.get(`/v1/jobs/${id}`)).body.state).toBe('paused');
    const resume = await kumo(['resume', id, '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout)).toMatchObject({ id, state: 'running' });
    // Asking again for the state it is in already is not an error.
    const resumeAgain = await kumo(['resume', id]);
    expect(resumeAgain.code, resumeAgain.stderr).toBe(0);
    expect(resumeAgain.stdout).toMatch(new RegExp(`^${id} running: [\\d,]+ of 5,000 batches done\n$`));

    const cancel = await kumo(['cancel', id]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^${id} cancelled: `));

    const w = await watch.done;
    expect(w.code, w.stderr).toBe(2);
    expect(w.stdout).toMatch(
      new RegExp(`^${id} cancelled: [\\d,]+ succeeded, 0 failed, [\\d,]+ not run of 5,000 batches`),
    );
    const again = await kumo(['cancel', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('JOB_ALREADY_FINISHED');
  });

  it("a failing task (submitted twice with one idempotency key): watch exits 1, logs shows the job's errors and log tails, and the task's whole log", async () => {
    const file = join(dir, 'fails.json');
    writeFileSync(
      file,
      JSON.stringify({
        kind: 'extraction',
        name: 'cli-fails',
        source: { snapshot: 'CC-MAIN-2023-50', batches: 1 },
        pool: 'local',
        retry: { maxAttempts: 1 },
        run: { command: ['sh', '-c', 'echo "reading $KUMO_TASK_INPUTS"; echo "cannot parse WARC" >&2; exit 3'] },
      }),
    );
    // Submitted twice with one Idempotency-Key (a script retrying after a timeout): one job.
    const [first, retried] = [
      await kumo(['submit', file, '--idempotency-key', 'cli-fails-1']),
      await kumo(['submit', file, '--idempotency-key', 'cli-fails-1']),
    ];
    const id = first.stdout.trim();
    expect(id).toMatch(JOB_ID);
    expect(retried.stdout.trim()).toBe(id);
    const watch = await kumo(['watch', id]);
    expect(watch.code, watch.stderr).toBe(1);
    expect(watch.stdout).toContain(`${id} failed: 0 succeeded, 1 failed, 0 not run of 1 batches`);

    const [all, one, followed, record, missing] = await Promise.all([
      kumo(['logs', id]),
      kumo(['logs', id, '0']),
      kumo(['logs', id, '0', '--follow']),
      kumo(['logs', id, '0', '--json']),
      kumo(['logs', id, '7']),
    ]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^task 0: TASK_EXIT_NONZERO: task exited with code 3 \(attempt 1, final/);
    expect(all.stdout).toContain('  | cannot parse WARC');
    expect(all.stdout).toContain('  | reading ["CC-MAIN-2023-50/batch-0"]');
    // One task: everything it printed, stdout and stderr (the order between the two is the worker's reading).
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.split('\n').sort()).toEqual(['', 'cannot parse WARC', 'reading ["CC-MAIN-2023-50/batch-0"]']);
    // Followed after the task ended: the same, and it ends.
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toBe(one.stdout);
    // --json keeps the task's failure record, as before.
    expect(record.code).toBe(0);
    expect(JSON.parse(record.stdout).tasks).toMatchObject([
      { index: 0, attempt: 1, final: true, error: { code: 'TASK_EXIT_NONZERO' } },
    ]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('kumo: TASK_NOT_RUN: task 7');
  });

  it("rerun runs an ended job's failed tasks as a new job; contributors shows who did the tasks, summing to the job's counts", async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'cli-rerun',
      source: { snapshot: 'S', batches: 4 },
      pool: 'local',
      retry: { maxAttempts: 1 },
      failurePolicy: { maxFailedTasks: 4 },
      run: { command: ['sh', '-c', '[ "$KUMO_TASK_INDEX" != 1 ]'] },
    });
    const id = sub.body.id as string;
    const first = await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${id}`)).body;
        return j.state === 'succeeded' ? j : undefined;
      },
      { timeoutMs: 30_000, what: 'the job to end' },
    );
    expect(first.progress).toMatchObject({ succeeded: 3, failed: 1 });
    const both = await kumo(['rerun', id, '--failed', '--unfinished']);
    expect(both.code).toBe(3);
    const rerun = await kumo(['rerun', id]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(new RegExp(`^job_[0-9a-z]{18} queued: reruns 1 failed batches of ${id}\n$`));
    const table = await kumo(['contributors', id]);
    expect(table.code, table.stderr).toBe(0);
    const [header, ...rows] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^WORKER\s+OWNER\s+SUCCEEDED\s+FAILED\s+TASK SECONDS$/);
    const cells = rows.map((r) => r.split(/\s{2,}/));
    expect(cells.every((c) => c[1] === 'local')).toBe(true);
    expect(cells.reduce((n, c) => n + Number(c[2]), 0)).toBe(3);
    expect(cells.reduce((n, c) => n + Number(c[3]), 0)).toBe(1);
    const team = JSON.parse((await kumo(['contributors', '--pool', 'local', '--json'])).stdout);
    expect(
      team.contributors.reduce((n: number, c: { succeeded: number }) => n + c.succeeded, 0),
    ).toBeGreaterThanOrEqual(3);
    // The ended job is deleted, once (a live one is refused: test/e2e/task-logs.test.ts).
    const deleted = await kumo(['delete', id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe(`${id} deleted\n`);
    expect((await api.get(`/v1/jobs/${id}`)).status).toBe(404);
    const again = await kumo(['delete', id]);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('kumo: JOB_NOT_FOUND');
  });

  it('exit 3 for a spec the API refuses (its issues printed with their paths) and for bad arguments', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'kind: extraction\nname: bad\nsource:\n  snapshot: CC-MAIN-2023-50\n  batches: "many"\npool: local\nrun:\n  builtin: noop\n',
    );
    const [refused, missing, badLimit, unknown] = await Promise.all([
      kumo(['submit', bad]),
      kumo(['submit', join(dir, 'no-such.yaml')]),
      kumo(['jobs', '--limit', 'ten']),
      kumo(['frobnicate']),
    ]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^kumo: INVALID_INPUT: /);
    expect(refused.stderr).toMatch(/^ {2}source\.batches: /m);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('(ENOENT)');
    expect(badLimit.code).toBe(3);
    expect(badLimit.stderr).toContain("--limit must be a whole number from 1 to 500, not 'ten'");
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('exit 4 for an unknown job, 5 for a wrong token, 6 when nothing listens', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const [job, watch, wrongToken, unreachable] = await Promise.all([
      kumo(['job', 'job_0000000000000000zz']),
      kumo(['watch', 'job_0000000000000000zz']),
      runKumo(['jobs'], { env: { ...env, KUMO_TOKEN: 'not-the-token-0123456789' } }),
      runKumo(['jobs'], { env: { ...env, KUMO_URL: nobody } }),
    ]);
    expect(job.code).toBe(4);
    expect(job.stderr).toContain("kumo: JOB_NOT_FOUND: no job with id 'job_0000000000000000zz'");
    expect(watch.code).toBe(4);
    expect(wrongToken.code).toBe(5);
    expect(wrongToken.stderr).toMatch(/^kumo: UNAUTHENTICATED: /);
    expect(wrongToken.stderr).toContain('the token came from KUMO_TOKEN');
    expect(unreachable.code).toBe(6);
    expect(unreachable.stderr).toContain(`kumo: UNREACHABLE: cannot reach the kumo API at ${nobody} (ECONNREFUSED)`);
  });

  it('without KUMO_TOKEN, uses .kumo/admin-token from a folder above the cwd, and names it when it is wrong', async () => {
    const checkout = join(dir, 'checkout');
    mkdirSync(join(checkout, '.kumo'), { recursive: true });
    mkdirSync(join(checkout, 'services', 'cli'), { recursive: true });
    writeFileSync(join(checkout, '.kumo', 'admin-token'), `${token}\n`);
    const cwd = join(checkout, 'services', 'cli');
    const good = await runKumo(['jobs', '--json'], { env: { KUMO_URL: cp.url }, cwd });
    expect(good.code, good.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(good.stdout).jobs)).toBe(true);

    writeFileSync(join(checkout, '.kumo', 'admin-token'), 'a-stale-token-from-an-old-run\n');
    const stale = await runKumo(['jobs'], { env: { KUMO_URL: cp.url }, cwd });
    expect(stale.code).toBe(5);
    expect(stale.stderr).toContain(`the token came from ${join(checkout, '.kumo', 'admin-token')}`);
  });

  it('simulate rehearses the example on virtual time: a summary, or the report with --json', async () => {
    const text = await kumo(['simulate', 'examples/simulate-small.yaml']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^2,000 tasks, succeeded: makespan [\d.]+ h \(ideal [\d.]+ h, x\d\.\d{3}\)/);
    expect(text.stdout).toMatch(/cost \$[\d,.]+ \(ideal \$[\d,.]+\)/);
    const json = await kumo(['simulate', 'examples/simulate-small.yaml', '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ tasks: 2000, finished: true, peakVms: 8 });
    // Same seed, same answer.
    expect(text.stdout).toContain(`x${(report.makespanSeconds / report.idealMakespanSeconds).toFixed(3)}`);
  });

  it('pools lists the local pool, as a table and as JSON', async () => {
    const [table, json] = await Promise.all([kumo(['pools']), kumo(['pools', '--json'])]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^local\s+local\s+-\s+standard\s+local\s+0\.\.2\s/m);
    expect(JSON.parse(json.stdout).pools.map((p: { name: string }) => p.name)).toContain('local');
  });
});
