import { describe, expect, it } from 'vitest';
import { IMAGE_REFERENCE, runSchema, wallClock } from '@kumo/shared';
import { taskHost } from '../../../test/support/task-host';
import { runTask } from './task-runner';

describe('image references', () => {
  it.each([
    'ubuntu',
    'ubuntu:22.04',
    'ghcr.io/team/train:1.2',
    'localhost:5000/a/b_c-d',
    'us-docker.pkg.dev/p/r/img@sha256:' + 'a'.repeat(64),
  ])('accepts %s', (ref) => {
    expect(IMAGE_REFERENCE.test(ref)).toBe(true);
  });

  it.each([
    '--privileged',
    '-v/:/host',
    'ubuntu --privileged',
    'Ubuntu',
    'a/../b',
    'ubuntu:',
    '',
    'ubuntu\n--pid=host',
  ])('refuses %j at submit and at run', async (ref) => {
    expect(runSchema.safeParse({ image: ref }).success).toBe(false);
    // A worker checks again (a record written around the API must not smuggle options into docker run).
    await expect(
      runTask({
        run: { image: ref } as never,
        env: {},
        timeoutMs: 1000,
        signal: new AbortController().signal,
        clock: wallClock,
        sandbox: taskHost().sandbox,
      }),
    ).rejects.toMatchObject({ code: 'TASK_INVALID' });
  });
});
