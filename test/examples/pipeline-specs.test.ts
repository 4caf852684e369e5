import { readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobSpecSchema, taskCount, wallClock, type JobSpec, type JobSpecInput } from '@kumo/shared';
import { DEFAULT_SANDBOX_SETTINGS, runTask, TaskFailure, TaskSandbox } from '@kumo/worker';
import { taskReadableDir } from '../support/task-dirs';
import { EXAMPLES, makeSampleWarcs, readJsonl, SAMPLE_JAPANESE, workerEnv } from './task-process';

const PIPELINE = join(EXAMPLES, 'pipeline');
const load = (name: string): JobSpecInput => parse(readFileSync(join(PIPELINE, name), 'utf8'));
/** The argv of a `{command: [...]}` run (these examples are subprocesses, not containers). */
function commandOf(spec: JobSpec): string[] {
  if ('image' in spec.run || !('command' in spec.run)) throw new Error(`${spec.name}: not a command job`);
  return spec.run.command;
}

describe('examples/pipeline: the four job specs (and extract-listing.yaml), as a worker runs them, one after another', () => {
  // A scratch folder stands in for the repository root a worker runs in: the specs' relative paths
  // (.kumo/demo/...) land there, not in this checkout. Each job's tasks run as a worker runs them:
  // isolated, as the job's own uid, with the sandbox `npm start` gives its workers (a job's local
  // folders made for it under .kumo/, the parent of the artifacts folder).
  let root: string;
  let sandbox: TaskSandbox;
  beforeAll(() => {
    root = taskReadableDir('kumo-demo-');
    symlinkSync(EXAMPLES, join(root, 'examples'));
    sandbox = new TaskSandbox({
      ...DEFAULT_SANDBOX_SETTINGS,
      dataRoots: [join(root, '.kumo', 'artifacts'), join(root, '.kumo')],
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  interface IsolatedRun {
    result?: Record<string, any>;
    checkpoints: { step: number; uri: string }[];
    /** The task's log (stdout that is not a contract line, and stderr), as the worker keeps it. */
    log: string[];
  }

  /** Every task of the spec, in order, as one job (one uid) of its own, in the worker's task runner. */
  async function runJob(file: string, env: Record<string, string> = {}): Promise<IsolatedRun[]> {
    const input = load(file);
    const spec = jobSpecSchema.parse({ ...input, env: { ...input.env, ...env } });
    const runs: IsolatedRun[] = [];
    for (let i = 0; i < taskCount(spec); i++) {
      const checkpoints: IsolatedRun['checkpoints'] = [];
      const out = await runTask({
        run: spec.run,
        env: { ...workerEnv(spec, i), KUMO_JOB_ID: `job_demo_${file.replace(/\W/g, '_')}` },
        timeoutMs: 30_000,
        signal: new AbortController().signal,
        clock: wallClock,
        sandbox,
        baseDir: root,
        onCheckpoint: (c) => checkpoints.push(c as IsolatedRun['checkpoints'][number]),
      }).catch((err: unknown) => {
        throw err instanceof TaskFailure ? new Error(`${file} task ${i}: ${err.message}\n${err.logTail}`) : err;
      });
      const log = out.logTail.split('\n').filter((l) => l && !l.startsWith('::kumo::'));
      runs.push({ ...(out.result ? { result: out.result } : {}), checkpoints, log });
    }
    return runs;
  }

  it('every spec is valid, and names programs that exist', () => {
    const files = readdirSync(PIPELINE)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(files).toEqual([
      'clean.yaml',
      'eval.yaml',
      'extract-listing.yaml',
      'extract.yaml',
      'train-with-eval.yaml',
      'train.yaml',
    ]);
    for (const f of files) {
      const spec = jobSpecSchema.parse(load(f));
      // A task runs in a scratch folder of its own unless its spec names one: these name the worker's,
      // where examples/ and the relative .kumo/demo/ paths they are given lie.
      expect(spec.run).toMatchObject({
        command: ['python3', expect.stringMatching(/^examples\/[a-z-]+\/[a-z_]+\.py$/)],
        cwd: '.',
      });
      const script = commandOf(spec)[1]!;
      expect(readdirSync(join(root, script, '..'))).toContain(script.split('/').pop());
    }
  });

  it("train-with-eval.yaml is train.yaml with its checkpoints evaluated by eval.yaml's program on eval.yaml's benchmarks", () => {
    const {
      name: _n1,
      checkpoint: c1,
      evaluate,
      ...withEval
    } = load('train-with-eval.yaml') as Extract<JobSpecInput, { kind: 'training' }>;
    const { name: _n2, checkpoint: c2, ...plain } = load('train.yaml') as Extract<JobSpecInput, { kind: 'training' }>;
    expect(withEval).toEqual(plain);
    expect(c1?.everySteps).toBe(c2?.everySteps);
    const ev = load('eval.yaml') as Extract<JobSpecInput, { kind: 'evaluation' }>;
    expect(evaluate).toMatchObject({ benchmarks: ev.benchmarks, run: ev.run });
    // Evaluated at a multiple of the checkpoint interval, so some checkpoints are on the grid.
    expect(evaluate!.everySteps! % c1!.everySteps!).toBe(0);
  });

  it('extract, clean, train, evaluate: the demo of examples/README.md', async () => {
    const sample = makeSampleWarcs(join(root, '.kumo/demo/cc'));
    const extract = load('extract.yaml');
    expect(extract.kind === 'extraction' && extract.source.paths).toEqual(sample.relative);

    // extract-listing.yaml is the same job, its files named by the generated listing (the API reads it).
    const {
      name: _n1,
      source: listed,
      ...viaListing
    } = load('extract-listing.yaml') as JobSpecInput & { source: Record<string, unknown> };
    const { name: _n2, source: _s, ...viaPaths } = extract as JobSpecInput & { source: Record<string, unknown> };
    expect(viaListing).toEqual(viaPaths);
    expect(listed).toEqual({ snapshot: 'CC-MAIN-SAMPLE', listing: '.kumo/demo/cc/warc.paths.gz' });
    expect(
      gunzipSync(readFileSync(join(root, listed.listing as string)))
        .toString()
        .split('\n')
        .filter(Boolean),
    ).toEqual(sample.relative);

    const extracted = await runJob('extract.yaml');
    expect(extracted.map((r) => r.result!.docsOut)).toEqual(SAMPLE_JAPANESE.map((u) => u.length));
    expect(readJsonl(join(root, '.kumo/demo/extracted/task-0/ja.jsonl'))[0]!.text).toContain('京都の紅葉を歩く週末');

    const cleaned = await runJob('clean.yaml');
    expect(cleaned.map((r) => r.result!.pipeline)).toEqual(['ja-basic', 'ja-basic', 'ja-basic']);
    expect(cleaned.map((r) => r.result!.docsOut)).toEqual(SAMPLE_JAPANESE.map((u) => u.length));

    const [trained] = await runJob('train.yaml', { TRAIN_STEP_DELAY_MS: '0' });
    expect(trained!.result).toMatchObject({ model: 'tiny-ja-bigram', steps: 2000 });
    expect(trained!.checkpoints).toHaveLength(10);
    expect(trained!.log[0]).toMatch(/^fresh start: vocabulary \d+, corpus \d+ characters$/);

    const evaluated = await runJob('eval.yaml');
    expect(evaluated.map((r) => [r.result!.step, r.result!.benchmark])).toEqual([
      [200, 'jglue-mini'],
      [200, 'llm-jp-eval-mini'],
      [200, 'ja-bpc'],
      [2000, 'jglue-mini'],
      [2000, 'llm-jp-eval-mini'],
      [2000, 'ja-bpc'],
    ]);
    expect(evaluated[5]!.result!.score).toBeLessThan(evaluated[2]!.result!.score); // fewer bits per character after more training
  });
});
