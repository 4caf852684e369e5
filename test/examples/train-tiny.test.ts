import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_PREFIX, runPython, workerEnv } from './task-process';

const TRAIN = 'train-tiny/train.py';

describe('examples/train-tiny: the checkpoint contract (checkpoint, SIGTERM, resume)', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-train-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A training job as kumo would run it: KUMO_CHECKPOINT_DIR from checkpoint.uri, resumeFrom as recorded. */
  const spec = (dir: string, steps: number, env: Record<string, string> = {}) => ({
    kind: 'training' as const,
    name: 'tiny',
    model: { name: 'tiny-ja', parameters: '65k' },
    target: { steps },
    checkpoint: { uri: dir, everySteps: 100 },
    env: { KUMO_CHECKPOINT_EVERY: '100', ...env },
    run: { command: ['python3', 'examples/train-tiny/train.py'] },
  });

  it('trains to the target, checkpointing every 100 steps and announcing each checkpoint once it is on disk', async () => {
    const dir = join(tmp, 'fresh');
    const env = workerEnv(spec(dir, 300));
    expect(env).toMatchObject({
      KUMO_CHECKPOINT_DIR: dir,
      KUMO_RESUME_FROM: '',
      KUMO_TARGET_STEPS: '300',
      KUMO_MODEL: 'tiny-ja',
    });
    const r = await runPython(TRAIN, env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.checkpoints).toEqual(
      [100, 200, 300].map((step) => ({
        step,
        tokens: step * 16,
        uri: join(dir, `step-${String(step).padStart(8, '0')}.ckpt`),
      })),
    );
    expect(readdirSync(dir)).toEqual(['step-00000100.ckpt', 'step-00000200.ckpt', 'step-00000300.ckpt']);
    expect(r.progress.map((p) => p.step)).toEqual([50, 100, 150, 200, 250, 300]);
    expect(r.progress.every((p) => p.tokens === p.step * 16 && p.targetSteps === 300)).toBe(true);
    expect(r.progress.at(-1)!.loss).toBeLessThan(r.progress[0]!.loss); // it learns
    expect(r.result).toMatchObject({
      model: 'tiny-ja',
      steps: 300,
      tokens: 4800,
      checkpoint: join(dir, 'step-00000300.ckpt'),
      resumedFrom: null,
    });
    expect(r.log[0]).toMatch(/^fresh start: vocabulary \d+, corpus \d+ characters$/);
  });

  it('on SIGTERM checkpoints and exits 143 at once; resumed from that checkpoint it continues from there, not 0, to the same weights', async () => {
    const dir = join(tmp, 'preempted');
    const s = spec(dir, 600, { TRAIN_STEP_DELAY_MS: '5' });
    let killedAt = 0;
    const first = await runPython(TRAIN, workerEnv(s), {
      onLine: (line, kill) => {
        if (!killedAt && line.startsWith(CHECKPOINT_PREFIX)) {
          killedAt = Date.now();
          kill('SIGTERM'); // as the worker does on a preempted VM or a cancelled job
        }
      },
    });
    expect(Date.now() - killedAt).toBeLessThan(3000); // far inside kumo's ~25 s of grace
    expect(first.code).toBe(143);
    expect(first.result).toBeUndefined();
    const last = first.checkpoints.at(-1)!;
    expect(last.step).toBeGreaterThanOrEqual(100);
    expect(last.step).toBeLessThan(600);
    expect(existsSync(last.uri)).toBe(true);
    expect(first.stderr).toContain(`stopping on SIGTERM at step ${last.step} of 600`);
    expect(readdirSync(dir).every((f) => /^step-\d{8}\.ckpt$/.test(f))).toBe(true); // no half-written temporaries

    // kumo starts the task again with the last checkpoint it recorded; no delay this time.
    const second = await runPython(TRAIN, workerEnv(spec(dir, 600), 0, { attempt: 1, resumeFrom: last.uri }));
    expect(second.code, second.stderr).toBe(0);
    expect(second.log[0]).toBe(`resumed from step ${last.step} (${last.uri})`);
    expect(second.progress[0]!.step).toBeGreaterThan(last.step);
    expect(second.checkpoints[0]!.step).toBe(Math.floor(last.step / 100) * 100 + 100);
    expect(second.result).toMatchObject({ steps: 600, tokens: 600 * 16, resumedFrom: last.step });

    // Stopping and resuming changes nothing: the weights are those of a run that was never stopped.
    const straight = await runPython(TRAIN, workerEnv(spec(join(tmp, 'straight'), 600)));
    expect(straight.result!.weightsSha256).toBe(second.result!.weightsSha256);
  });

  it('resumes from a folder (its newest checkpoint), and does nothing more when the target is already reached', async () => {
    const dir = join(tmp, 'folder');
    const stopped = await runPython(TRAIN, workerEnv(spec(dir, 400)), { args: ['--stop-at-step', '250'] });
    expect(stopped.code).toBe(143);
    expect(stopped.checkpoints.map((c) => c.step)).toEqual([100, 200, 250]);
    const resumed = await runPython(TRAIN, workerEnv(spec(dir, 400), 0, { resumeFrom: dir }));
    expect(resumed.log[0]).toMatch(/^resumed from step 250 /);
    expect(resumed.result).toMatchObject({ steps: 400, resumedFrom: 250 });
    const done = await runPython(TRAIN, workerEnv(spec(dir, 400), 0, { resumeFrom: resumed.result!.checkpoint }));
    expect(done.code).toBe(0);
    expect(done.checkpoints).toEqual([]);
    expect(done.result).toMatchObject({
      steps: 400,
      checkpoint: resumed.result!.checkpoint,
      weightsSha256: resumed.result!.weightsSha256,
    });
  });

  it('never falls back to step 0 on a checkpoint it cannot read, and says why', async () => {
    const dir = join(tmp, 'bad-resume');
    const missing = await runPython(TRAIN, workerEnv(spec(dir, 100), 0, { resumeFrom: join(tmp, 'nope.ckpt') }));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`cannot resume from '${join(tmp, 'nope.ckpt')}'`);
    expect(missing.checkpoints).toEqual([]);

    const ok = await runPython(TRAIN, workerEnv(spec(join(tmp, 'to-damage'), 100)));
    truncateSync(ok.result!.checkpoint, 1000);
    const damaged = await runPython(TRAIN, workerEnv(spec(dir, 200), 0, { resumeFrom: ok.result!.checkpoint }));
    expect(damaged.code).toBe(3);
    expect(damaged.stderr).toContain('checkpoint is not JSON');

    const nowhere = await runPython(TRAIN, workerEnv({ ...spec(dir, 100), checkpoint: {} }));
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('KUMO_CHECKPOINT_DIR');
  });

  it("trains on the text of a JSONL shard (a cleaning job's output) given in TRAIN_DATA", async () => {
    const data = join(tmp, 'data.jsonl');
    const texts = ['今日はよい天気です。', '明日も晴れるでしょう。'];
    writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const r = await runPython(TRAIN, workerEnv(spec(join(tmp, 'on-data'), 20, { TRAIN_DATA: data })));
    expect(r.code, r.stderr).toBe(0);
    const distinct = new Set(texts.join('')).size; // 18, plus the unknown slot and the newline
    expect(r.log[0]).toBe(`fresh start: vocabulary ${distinct + 2}, corpus ${texts.join('\n\n').length} characters`);
  });
});
