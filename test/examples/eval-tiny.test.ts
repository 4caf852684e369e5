import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPython, workerEnv } from './task-process';

const EVAL = 'eval-tiny/evaluate.py';
const run = { command: ['python3', 'examples/eval-tiny/evaluate.py'] };

describe('examples/eval-tiny: a checkpoint on a benchmark, one score', () => {
  let tmp: string;
  let early: string;
  let trained: string;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-eval-'));
    const train = (steps: number, dir: string) =>
      runPython(
        'train-tiny/train.py',
        workerEnv({
          kind: 'training',
          name: 't',
          model: { name: 'tiny-ja' },
          target: { steps },
          checkpoint: { uri: join(tmp, dir) },
          run: { command: ['python3'] },
        }),
      );
    early = (await train(1, 'early')).result!.checkpoint;
    trained = (await train(400, 'trained')).result!.checkpoint;
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const spec = (checkpoints: string[], benchmarks: string[]) => ({
    kind: 'evaluation' as const,
    name: 'eval',
    checkpoints,
    benchmarks,
    run,
  });

  it('scores each (checkpoint, benchmark) task as kumo cuts the job, and prints one result line', async () => {
    const s = spec([early, trained], ['jglue-mini', 'llm-jp-eval-mini', 'ja-bpc']);
    const results = [];
    for (let i = 0; i < 6; i++) {
      const env = workerEnv(s, i);
      const r = await runPython(EVAL, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.resultLines).toBe(1);
      expect(r.result).toMatchObject({
        checkpoint: env.KUMO_CHECKPOINT,
        benchmark: env.KUMO_BENCHMARK,
        model: 'tiny-ja',
        score: expect.any(Number),
      });
      results.push(r.result!);
    }
    const [eJ, eL, eB, tJ, tL, tB] = results;
    expect(eJ).toMatchObject({
      checkpoint: early,
      benchmark: 'jglue-mini',
      metric: 'accuracy',
      higherIsBetter: true,
      items: 8,
      step: 1,
    });
    expect(eJ!.score).toBe(eJ!.correct / 8);
    expect(tL).toMatchObject({
      checkpoint: trained,
      benchmark: 'llm-jp-eval-mini',
      metric: 'accuracy',
      items: 10,
      step: 400,
    });
    expect(tB).toMatchObject({ metric: 'bits_per_char', higherIsBetter: false, items: 5 });
    for (const r of [eJ, eL, tJ, tL]) {
      expect(r!.score).toBeGreaterThanOrEqual(0);
      expect(r!.score).toBeLessThanOrEqual(1);
    }
    // Training helps where a character model can: natural word order, and fewer bits per character.
    expect(tL!.score).toBeGreaterThanOrEqual(0.9);
    expect(tB!.score).toBeLessThan(eB!.score - 0.5);
  });

  it('takes a checkpoint folder (its newest) or a file:// URI', async () => {
    const folder = await runPython(EVAL, workerEnv(spec([join(tmp, 'trained')], ['ja-bpc'])));
    expect(folder.result).toMatchObject({ checkpointPath: trained, step: 400 });
    const uri = await runPython(EVAL, workerEnv(spec([`file://${trained}`], ['ja-bpc'])));
    expect(uri.result).toMatchObject({ checkpoint: `file://${trained}`, checkpointPath: trained });
  });

  it('fails clearly on an unknown benchmark or a checkpoint it cannot load', async () => {
    const unknown = await runPython(EVAL, workerEnv(spec([trained], ['jsquad'])));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown benchmark 'jsquad' (known: jglue-mini, llm-jp-eval-mini, ja-bpc)");
    const missing = await runPython(EVAL, workerEnv(spec([join(tmp, 'nope.ckpt')], ['jglue-mini'])));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('cannot load checkpoint');
    const remote = await runPython(EVAL, workerEnv(spec(['gs://bucket/ckpt/step-1.ckpt'], ['jglue-mini'])));
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('gs:// is not readable by this program');
    for (const r of [unknown, missing, remote]) expect(r.result).toBeUndefined();
  });
});
