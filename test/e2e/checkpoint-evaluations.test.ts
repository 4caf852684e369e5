import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane } from '../support/control-plane';
import { client } from '../support/http';
import { taskReadableDir } from '../support/task-dirs';
import { checkpointTrainer, stepScorer } from '../support/toy-training';
import { waitFor } from '../support/wait';

/** Checkpoints at 20, 40, 60, 80 and the target, 90; scored step / 180, plus 0.5 on ja-bpc. */
const TRAINER = checkpointTrainer([20, 40, 60, 80, 90], 0.1);
const EVALUATOR = stepScorer(180, { 'ja-bpc': 0.5 });

interface JobView {
  id: string;
  name: string;
  state: string;
  user: string;
  spec: { labels: Record<string, string>; checkpoints: string[]; benchmarks: string[] };
}

describe('evaluation started by a new checkpoint', () => {
  let api: ReturnType<typeof client>;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ api, stop } = await startTestControlPlane('ckpteval', {
      localPool: { max: 2, slotsPerVm: 2, idleTimeoutSeconds: 5 },
      workerEnv: { LOG_LEVEL: 'warn', KUMO_ARTIFACTS_DIR: taskReadableDir('kumo-ckpt-eval-') },
    }));
  });
  afterAll(async () => {
    await stop();
  });

  it('each checkpoint at a multiple of everySteps, and the last, becomes one evaluation job whose scores are in its results', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'training',
      name: 'ja-tiny',
      model: { name: 'ja-tiny' },
      target: { steps: 90 },
      labels: { team: 'ja-llm' },
      run: { command: ['python3', '-c', TRAINER] },
      evaluate: {
        benchmarks: ['jglue-mini', 'ja-bpc'],
        everySteps: 40,
        run: { command: ['python3', '-c', EVALUATOR] },
      },
    });
    expect(sub.status).toBe(201);
    const trainingId = sub.body.id as string;
    await waitFor(
      async () => ((await api.get(`/v1/jobs/${trainingId}`)).body.state === 'succeeded' ? true : undefined),
      { timeoutMs: 60_000, what: 'training to succeed' },
    );

    // Checkpoints at 20, 40, 60, 80 and 90: 40 and 80 are multiples of everySteps, 90 is the last.
    const evaluations = await waitFor(
      async () => {
        const list = (await api.get('/v1/jobs?kind=evaluation&limit=100')).body.jobs as { id: string }[];
        const mine: JobView[] = [];
        for (const j of list) {
          const full = (await api.get(`/v1/jobs/${j.id}`)).body as JobView;
          if (full.spec.labels['training-job'] === trainingId) mine.push(full);
        }
        return mine.length === 3 && mine.every((j) => j.state === 'succeeded') ? mine : undefined;
      },
      { timeoutMs: 60_000, what: 'three evaluation jobs to succeed' },
    );

    const byStep = new Map(evaluations.map((j) => [Number(j.spec.labels['checkpoint-step']), j]));
    // The training job's own view: one row per evaluated step, each benchmark's score.
    const table = (await api.get(`/v1/jobs/${trainingId}/evaluations`)).body.evaluations as {
      step: number;
      jobId: string;
      state: string;
      scores: Record<string, number | null>;
    }[];
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    expect(table.map((e) => [e.step, e.jobId, e.state, e.scores])).toEqual(
      [40, 80, 90].map((step) => [
        step,
        byStep.get(step)!.id,
        'succeeded',
        { 'jglue-mini': round(step / 180), 'ja-bpc': round(step / 180 + 0.5) },
      ]),
    );
    expect([...byStep.keys()].sort((a, b) => a - b)).toEqual([40, 80, 90]);
    for (const [step, j] of byStep) {
      expect(j.name).toBe(`ja-tiny eval @ step ${step}`);
      expect(j.user).toBe(sub.body.user);
      expect(j.spec.labels.team).toBe('ja-llm');
      expect(j.spec.benchmarks).toEqual(['jglue-mini', 'ja-bpc']);
      expect(j.spec.checkpoints).toHaveLength(1);
      expect(j.spec.checkpoints[0]).toMatch(new RegExp(`ckpt-${step}\\.json$`));
      const results = (await api.get(`/v1/jobs/${j.id}/results`)).body.results as {
        result: { step: number; benchmark: string; score: number };
      }[];
      expect(results.map((r) => [r.result.step, r.result.benchmark, r.result.score])).toEqual([
        [step, 'jglue-mini', Math.round((step / 180) * 1000) / 1000],
        [step, 'ja-bpc', Math.round((step / 180 + 0.5) * 1000) / 1000],
      ]);
    }
  });

  it('a job without evaluations has an empty table; an unknown job is a 404', async () => {
    const plain = await api.post('/v1/jobs', {
      kind: 'training',
      name: 'plain',
      model: { name: 'm' },
      target: { steps: 1 },
      run: { builtin: 'noop' },
    });
    expect((await api.get(`/v1/jobs/${plain.body.id}/evaluations`)).body).toEqual({ evaluations: [] });
    expect((await api.get('/v1/jobs/job_0000000000nothere00/evaluations')).status).toBe(404);
  });

  it('refuses an evaluate block that is not valid, with the path of the problem', async () => {
    const bad = await api.post('/v1/jobs', {
      kind: 'training',
      name: 'bad',
      model: { name: 'm' },
      target: { steps: 10 },
      run: { builtin: 'noop' },
      evaluate: { benchmarks: [], run: { builtin: 'noop' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toEqual(['evaluate', 'benchmarks']);
    const nowhere = await api.post('/v1/jobs', {
      kind: 'training',
      name: 'nowhere',
      model: { name: 'm' },
      target: { steps: 10 },
      run: { builtin: 'noop' },
      evaluate: { benchmarks: ['b'], pool: 'no-such-pool', run: { builtin: 'noop' } },
    });
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.error.issues[0].path).toEqual(['evaluate', 'pool']);
  });

  it('a pipeline whose later stage names a missing pool is refused whole: no stage job is left behind', async () => {
    const before = (await api.get('/v1/jobs?limit=500')).body.jobs.length as number;
    const res = await api.post('/v1/pipelines', {
      name: 'half',
      stages: [
        {
          name: 'first',
          job: { kind: 'extraction', name: 'first', source: { snapshot: 'S', batches: 1 }, run: { builtin: 'noop' } },
        },
        {
          name: 'second',
          after: ['first'],
          job: {
            kind: 'cleaning',
            name: 'second',
            pool: 'no-such-pool',
            input: { count: 1 },
            run: { builtin: 'noop' },
          },
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(['stages', 1, 'job', 'pool']);
    expect((await api.get('/v1/jobs?limit=500')).body.jobs.length).toBe(before);
  });
});
