import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane } from '../support/control-plane';
import { addsUp, client } from '../support/http';
import { taskReadableDir, taskWritableDir } from '../support/task-dirs';
import { waitFor } from '../support/wait';

/** A toy trainer that keeps kumo's checkpoint contract (KUMO_CHECKPOINT_DIR, KUMO_RESUME_FROM). */
const TRAINER = `
import json, os, pathlib, sys, time
d = pathlib.Path(os.environ['KUMO_CHECKPOINT_DIR']); d.mkdir(parents=True, exist_ok=True)
start = 0
if os.environ.get('KUMO_RESUME_FROM'):
    start = json.load(open(os.environ['KUMO_RESUME_FROM']))['step']
    print(f'resumed from step {start}', flush=True)
target = int(os.environ['KUMO_TARGET_STEPS'])
for step in range(start + 1, target + 1):
    time.sleep(float(os.environ.get('STEP_SECONDS', '0.02')))
    if step % 10 == 0:
        p = d / f'ckpt-{step}.json'
        p.write_text(json.dumps({'step': step}))
        print('::kumo::checkpoint ' + json.dumps({'step': step, 'tokens': step * 1000, 'uri': str(p)}), flush=True)
    print('::kumo::progress ' + json.dumps({'step': step, 'tokens': step * 1000}), flush=True)
print('::kumo::result ' + json.dumps({'startedFrom': start, 'finalStep': target}), flush=True)
`;

describe('the four job kinds, pipelines and the controls that go with them', () => {
  let api: ReturnType<typeof client>;
  let prefix: string;
  let stop: () => Promise<void>;
  const job = async (id: string) => (await api.get(`/v1/jobs/${id}`)).body;
  const ended = (id: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const j = await job(id);
        expect(addsUp(j.progress)).toBe(true);
        return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
      },
      { timeoutMs, what: `job ${id} to end` },
    );

  beforeAll(async () => {
    ({ api, prefix, stop } = await startTestControlPlane('kinds', {
      localPool: { max: 2, slotsPerVm: 4, idleTimeoutSeconds: 5 },
      workerEnv: { LOG_LEVEL: 'warn', KUMO_ARTIFACTS_DIR: taskReadableDir('kumo-kinds-artifacts-') },
    }));
  });
  afterAll(async () => {
    await stop();
  });

  it('a pipeline of extraction -> cleaning -> training -> evaluation runs end to end, and the scores appear in the results', async () => {
    const sub = await api.post('/v1/pipelines', {
      name: 'ja-0.3b',
      stages: [
        {
          name: 'extract',
          job: {
            kind: 'extraction',
            name: 'extract',
            source: { snapshot: 'CC-MAIN-2023-50', batches: 4 },
            run: { command: ['sh', '-c', 'echo "::kumo::result {\\"docsIn\\": 10, \\"docsOut\\": 4}"'] },
          },
        },
        {
          name: 'clean',
          after: ['extract'],
          job: {
            kind: 'cleaning',
            name: 'clean',
            input: { prefix: 'shard-', count: 2 },
            pipeline: { name: 'dedup', steps: [{ name: 'exact-dedup' }] },
            run: { command: ['sh', '-c', 'echo cleaning $KUMO_TASK_INPUTS with $KUMO_PIPELINE'] },
          },
        },
        {
          name: 'train',
          after: ['clean'],
          job: {
            kind: 'training',
            name: 'train',
            model: { name: 'ja-0.3b' },
            target: { steps: 30 },
            run: { command: ['python3', '-c', TRAINER] },
          },
        },
        {
          name: 'eval',
          after: ['train'],
          job: {
            kind: 'evaluation',
            name: 'eval',
            checkpoints: ['step-10', 'step-30'],
            benchmarks: ['jglue-mini', 'llm-jp-eval-mini'],
            run: {
              command: [
                'sh',
                '-c',
                'echo "::kumo::result {\\"checkpoint\\": \\"$KUMO_CHECKPOINT\\", \\"benchmark\\": \\"$KUMO_BENCHMARK\\", \\"score\\": 0.$KUMO_TASK_INDEX}"',
              ],
            },
          },
        },
      ],
    });
    expect(sub.status).toBe(201);
    expect(sub.body.stages.map((s: { name: string }) => s.name)).toEqual(['extract', 'clean', 'train', 'eval']);
    const evalId = sub.body.stages[3].jobId;
    const trainId = sub.body.stages[2].jobId;
    // The later stages wait for the earlier ones.
    expect((await job(evalId)).dependsOn).toEqual([trainId]);
    const evalJob = await ended(evalId, 90_000);
    expect(evalJob.state).toBe('succeeded');
    const pipeline = (await api.get(`/v1/pipelines/${sub.body.id}`)).body;
    expect(pipeline.state).toBe('succeeded');
    expect(pipeline.stages.map((s: { state: string }) => s.state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    const train = await job(trainId);
    expect(train.checkpoint).toMatchObject({ step: 30 });
    const results = (await api.get(`/v1/jobs/${evalId}/results`)).body.results;
    expect(
      results.map((r: { result: { checkpoint: string; benchmark: string; score: number } }) => [
        r.result.checkpoint,
        r.result.benchmark,
        r.result.score,
      ]),
    ).toEqual([
      ['step-10', 'jglue-mini', 0],
      ['step-10', 'llm-jp-eval-mini', 0.1],
      ['step-30', 'jglue-mini', 0.2],
      ['step-30', 'llm-jp-eval-mini', 0.3],
    ]);
    // A stage's job deleted (ended, as only such can be): the pipeline names it so and still reads as it ended.
    expect((await api.delete(`/v1/jobs/${sub.body.stages[0].jobId}`)).status).toBe(204);
    const after = (await api.get(`/v1/pipelines/${sub.body.id}`)).body;
    expect(after.stages.map((s: { state: string }) => s.state)).toEqual([
      'deleted',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(after.state).toBe('succeeded');
  });

  it('a failed stage fails what depends on it, visibly', async () => {
    const sub = await api.post('/v1/pipelines', {
      name: 'broken',
      stages: [
        {
          name: 'extract',
          job: {
            kind: 'extraction',
            name: 'bad',
            source: { snapshot: 'S', batches: 1 },
            retry: { maxAttempts: 1 },
            run: { command: ['false'] },
          },
        },
        {
          name: 'clean',
          after: ['extract'],
          job: { kind: 'cleaning', name: 'never', input: { count: 1 }, run: { builtin: 'noop' } },
        },
      ],
    });
    const clean = await ended(sub.body.stages[1].jobId);
    expect(clean.state).toBe('failed');
    expect(clean.reason).toMatch(/^DEPENDENCY_FAILED: job job_\w+ ended failed$/);
    expect(clean.progress).toMatchObject({ succeeded: 0, failed: 0, queued: 1 });
    const bad = await api.post('/v1/jobs', {
      kind: 'cleaning',
      name: 'x',
      input: { count: 1 },
      run: { builtin: 'noop' },
      dependsOn: ['job_0000000000nothere00'],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toEqual(['dependsOn', 0]);
  });

  it('a training task killed mid-run resumes from its last checkpoint, not from zero', async () => {
    const marker = `kumo-train-${prefix}`;
    const sub = await api.post('/v1/jobs', {
      kind: 'training',
      name: 'resumable',
      model: { name: 'ja-tiny' },
      target: { steps: 150 },
      retry: { maxAttempts: 3, backoffSeconds: 0 },
      env: { STEP_SECONDS: '0.03' },
      run: { command: ['python3', '-c', TRAINER, marker] },
    });
    expect(sub.status).toBe(201);
    const mid = await waitFor(
      async () => {
        const j = await job(sub.body.id);
        return (j.checkpoint?.step ?? 0) >= 40 ? j : undefined;
      },
      { timeoutMs: 60_000, what: 'a checkpoint at step 40' },
    );
    expect(mid.liveProgress.step).toBeGreaterThan(0);
    const killed = spawnSync('pkill', ['-9', '-f', marker]);
    expect(killed.status).toBe(0);
    const done = await ended(sub.body.id);
    expect(done.state).toBe('succeeded');
    const [r] = (await api.get(`/v1/jobs/${sub.body.id}/results`)).body.results;
    expect(r.result.startedFrom).toBeGreaterThanOrEqual(40);
    expect(r.result.finalStep).toBe(150);
    expect(done.checkpoint.step).toBe(150);
  });

  it('a canary: only the first N tasks run until they pass; when they fail, the rest never start', async () => {
    // The tasks (the job's uid, not root) append to the ledger.
    const dir = taskWritableDir('kumo-canary-');
    const ran = join(dir, 'ran');
    /** An extraction of `batches` whose first 3 tasks are its canary. */
    const canaryJob = (name: string, batches: number, rest: Record<string, unknown>) =>
      api.post('/v1/jobs', {
        kind: 'extraction',
        name,
        source: { snapshot: 'S', batches },
        canary: { tasks: 3 },
        ...rest,
      });
    const sub = await canaryJob('canary', 50, {
      retry: { maxAttempts: 1 },
      run: { command: ['sh', '-c', `echo $KUMO_TASK_INDEX >> ${ran}; test $KUMO_TASK_INDEX -ge 3`] },
    });
    const j = await ended(sub.body.id);
    expect(j.state).toBe('failed');
    const indices = readFileSync(ran, 'utf8').trim().split('\n').map(Number);
    expect(Math.max(...indices)).toBeLessThan(3);

    const ok = await canaryJob('canary-ok', 20, { run: { builtin: 'noop' } });
    expect((await ended(ok.body.id)).progress).toMatchObject({ succeeded: 20 });

    // A job that allows failures: a canary task that fails for good fails the job (it used to wait forever,
    // its other tasks never fed), and still none of the rest ran.
    const lenient = await canaryJob('canary-lenient', 50, {
      failurePolicy: { maxFailedTasks: 5 },
      retry: { maxAttempts: 1 },
      run: { command: ['sh', '-c', `echo $KUMO_TASK_INDEX >> ${ran}.lenient; test $KUMO_TASK_INDEX -ne 1`] },
    });
    expect(lenient.status).toBe(201);
    const failed = await ended(lenient.body.id);
    expect(failed).toMatchObject({ state: 'failed', progress: { succeeded: 2, failed: 1 } });
    expect(failed.reason).toMatch(/^CANARY_FAILED/);
    expect(readFileSync(`${ran}.lenient`, 'utf8').trim().split('\n').map(Number).sort()).toEqual([0, 1, 2]);
  });

  it('pause holds a job (nothing new starts), resume lets it finish', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'pausable',
      source: { snapshot: 'S', batches: 120 },
      run: { builtin: 'sleep', ms: 150 },
    });
    await waitFor(async () => ((await job(sub.body.id)).progress.succeeded > 5 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'tasks to run',
    });
    const paused = await api.post(`/v1/jobs/${sub.body.id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe('paused');
    let last = -1;
    const held = await waitFor(
      async () => {
        const j = await job(sub.body.id);
        const stable = j.progress.running === 0 && j.progress.succeeded === last;
        last = j.progress.succeeded;
        return stable ? j : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1500, what: 'the paused job to settle' },
    );
    expect(held.state).toBe('paused');
    expect(held.progress.succeeded).toBeLessThan(120);
    // Pause and resume are idempotent: asking twice changes nothing more.
    expect((await api.post(`/v1/jobs/${sub.body.id}/pause`)).body.state).toBe('paused');
    expect((await api.post(`/v1/jobs/${sub.body.id}/resume`)).body.state).toBe('running');
    expect((await api.post(`/v1/jobs/${sub.body.id}/resume`)).body.state).toBe('running');
    const done = await ended(sub.body.id);
    expect(done.state).toBe('succeeded');
    expect(done.progress.succeeded).toBe(120);
    const late = await api.post(`/v1/jobs/${sub.body.id}/pause`);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('CONFLICT');
  });
});
