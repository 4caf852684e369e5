import { describe, expect, it } from 'vitest';
import { jobSpecSchema, type JobSpec } from '../catalog/index';
import { checkCheckpoint, workerCheckpointDir } from './checkpoint-check';

const ID = 'job_01abc';

function training(checkpointUri?: string): JobSpec {
  return jobSpecSchema.parse({
    kind: 'training',
    name: 't',
    model: { name: 'm' },
    target: { steps: 1000 },
    run: { builtin: 'noop' },
    ...(checkpointUri ? { checkpoint: { uri: checkpointUri } } : {}),
  });
}

const reason = (spec: JobSpec, data: Record<string, unknown>): string => {
  const v = checkCheckpoint(spec, ID, data);
  return v.ok ? 'ok' : v.reason;
};

describe('checkCheckpoint', () => {
  it('takes steps from 0 to target.steps, whole numbers only', () => {
    const spec = training('gs://b/run');
    expect(reason(spec, { step: 0, uri: 'gs://b/run/0' })).toBe('ok');
    expect(reason(spec, { step: 1000, uri: 'gs://b/run/1000' })).toBe('ok');
    expect(reason(spec, { step: 1001, uri: 'gs://b/run/1001' })).toBe('STEP_PAST_TARGET');
    expect(reason(spec, { step: 1e15, uri: 'gs://b/run/x' })).toBe('STEP_PAST_TARGET');
    for (const step of [-1, 1.5, '100', null, Number.NaN, 2 ** 60])
      expect(reason(spec, { step, uri: 'gs://b/run/x' })).toBe('STEP_INVALID');
    expect(reason(spec, { uri: 'gs://b/run/x' })).toBe('STEP_INVALID');
    expect(reason(spec, { step: 1, uri: 'gs://b/run/x', notes: 'x'.repeat(5000) })).toBe('TOO_LARGE');
  });

  it('holds a uri to the spec’s checkpoint.uri: same scheme and bucket, under its prefix, after normalizing', () => {
    const spec = training('gs://bucket/runs/ja-1b');
    const ok = [
      'gs://bucket/runs/ja-1b',
      'gs://bucket/runs/ja-1b/step-100',
      'gs://bucket/runs/ja-1b//./step-100/',
      'gs://BUCKET/runs/ja-1b/x',
      'gs://bucket/runs/ja-1b/a/../b',
    ];
    for (const uri of ok) expect(reason(spec, { step: 1, uri }), uri).toBe('ok');
    const outside = [
      'gs://bucket/runs/ja-1b-other/x', // a sibling whose name starts the same
      'gs://bucket/runs/ja-1b/../other/x',
      'gs://bucket/runs/ja-1b/%2e%2e/other/x',
      'gs://other/runs/ja-1b/x',
      's3://bucket/runs/ja-1b/x',
      '/runs/ja-1b/x',
      'file:///runs/ja-1b/x',
      'runs/ja-1b/x',
    ];
    for (const uri of outside) expect(reason(spec, { step: 1, uri }), uri).toBe('URI_OUTSIDE_LOCATION');
    const invalid = [
      '',
      'gs://bucket/../../x/../../..',
      'gs:///runs/ja-1b/x',
      'gs:bucket/runs/ja-1b/x',
      'gs://bucket/runs/ja-1b/x\n',
      'gs://bucket/runs/ja-1b/%zz',
      `gs://bucket/runs/ja-1b/${'a'.repeat(1100)}`,
    ];
    for (const uri of invalid) expect(reason(spec, { step: 1, uri }), uri).toBe('URI_INVALID');
    expect(reason(spec, { step: 1, uri: 42 })).toBe('URI_INVALID');
    expect(reason(spec, { step: 1 })).toBe('URI_INVALID');
  });

  it('a local checkpoint.uri takes the path or its file: URL, never a way out with ..', () => {
    const spec = training('/mnt/ckpt/run');
    for (const uri of ['/mnt/ckpt/run/step-1', 'file:///mnt/ckpt/run/step-1', '/mnt/ckpt/run/./a/../step-1'])
      expect(reason(spec, { step: 1, uri }), uri).toBe('ok');
    for (const uri of [
      '/mnt/ckpt/run/../../../etc/passwd',
      '/mnt/ckpt/runner',
      'file:///mnt/ckpt/run/%2e%2e/other',
      'gs://mnt/ckpt/run',
    ])
      expect(reason(spec, { step: 1, uri }), uri).toBe('URI_OUTSIDE_LOCATION');
    expect(reason(spec, { step: 1, uri: 'file://elsewhere/mnt/ckpt/run/x' })).toBe('URI_INVALID');
  });

  it('without checkpoint.uri, a uri must lie in a worker’s folder of this very job', () => {
    const spec = training();
    const dir = workerCheckpointDir('/home/kumo/.kumo/artifacts', ID);
    expect(dir).toBe(`/home/kumo/.kumo/artifacts/jobs/${ID}/checkpoints`);
    for (const uri of [
      dir,
      `${dir}/ckpt-10.json`,
      `file://${dir}/ckpt-10.json`,
      `/elsewhere/artifacts/jobs/${ID}/checkpoints/x`,
    ])
      expect(reason(spec, { step: 1, uri }), uri).toBe('ok');
    const outside = [
      `${dir}/../../../admin-token`,
      `/home/kumo/.kumo/artifacts/jobs/job_other/checkpoints/x`,
      `/home/kumo/.kumo/artifacts/jobs/${ID}/x`,
      `gs://b/jobs/${ID}/checkpoints/x`,
      `jobs/${ID}/checkpoints/x`,
      '/home/kumo/.kumo/admin-token',
    ];
    for (const uri of outside) expect(reason(spec, { step: 1, uri }), uri).toBe('URI_OUTSIDE_LOCATION');
  });

  it('refuses a checkpoint from a job that is not training', () => {
    const spec = jobSpecSchema.parse({
      kind: 'extraction',
      name: 'e',
      source: { snapshot: 'S', batches: 1 },
      run: { builtin: 'noop' },
    });
    expect(reason(spec, { step: 1, uri: `/a/jobs/${ID}/checkpoints/x` })).toBe('NOT_TRAINING');
  });
});
