import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, wallClock } from '@kumo/shared';
import { taskHost } from '../../../../test/support/task-host';
import { waitFor } from '../../../../test/support/wait';
import { runTask } from '../task-runner';
import { ContainerRuntime } from './containers';

/**
 * A docker CLI with a daemon of its own making, as far as kumo can tell: `run` starts the "container"
 * in a session of its own (dockerd's child, not the CLI's: a SIGKILL to the CLI leaves it running),
 * passes SIGTERM on to it as the real CLI does, and records it (pid, label) under its name in `state`;
 * `ps -aq --filter label=…` and `rm -f` act on those records.
 */
function fakeDocker(state: string): string {
  const path = join(state, '..', 'docker');
  writeFileSync(
    path,
    `#!/bin/bash
S=${state}
cmd=$1; shift
case "$cmd" in
run)
  while [ $# -gt 0 ]; do
    case "$1" in
      --rm) shift;;
      --name) name=$2; shift 2;;
      --label) label=$2; shift 2;;
      --gpus|--security-opt|--network|--env-file) shift 2;;
      *) break;;
    esac
  done
  shift
  setsid "$@" </dev/null >/dev/null 2>&1 &
  pid=$!
  echo "$pid $label" > "$S/$name"
  trap 'kill -TERM $pid 2>/dev/null' TERM
  while kill -0 $pid 2>/dev/null; do sleep 0.05; done
  rm -f "$S/$name";;
ps) want=\${3#label=}; for f in "$S"/*; do [ -e "$f" ] || continue; read pid label < "$f"; if [ "$label" = "$want" ]; then basename "$f"; fi; done;;
rm) shift; for n in "$@"; do read pid _ < "$S/$n" && kill -KILL $pid; rm -f "$S/$n"; done;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const log = createLogger({ name: 'containers', level: 'silent' });

describe('image tasks: containers that the worker does not own', () => {
  let dir: string;
  let state: string;
  let docker: string;
  /** The pids of the fake daemon's containers, by name (a record being written is left out). */
  const containers = (): Map<string, number> =>
    new Map(
      readdirSync(state)
        .map((n): [string, number] => [n, Number(readFileSync(join(state, n), 'utf8').split(' ')[0])])
        .filter(([, pid]) => pid > 0),
    );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kumo-containers-'));
    state = join(dir, 'state');
    mkdirSync(state);
    docker = fakeDocker(state);
  });
  afterEach(() => {
    if (existsSync(state)) for (const pid of containers().values()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('docker run: named, labelled with its worker, every GPU, the environment from a file; a gang rank on the host network', () => {
    const rt = new ContainerRuntime('vm-1', '/usr/bin/docker');
    const name = rt.nameFor('job_01', 7);
    expect(name).toMatch(/^kumo-job_01-7-[0-9a-f]{8}$/);
    expect(
      rt.runArgv({
        name,
        image: 'ghcr.io/team/eval:1',
        command: ['python', 'eval.py'],
        envFile: '/k/env',
        hostNetwork: false,
      }),
    ).toEqual([
      '/usr/bin/docker',
      'run',
      '--rm',
      '--name',
      name,
      '--label',
      'kumo.worker=vm-1',
      '--gpus',
      'all',
      '--security-opt',
      'no-new-privileges',
      '--env-file',
      '/k/env',
      'ghcr.io/team/eval:1',
      'python',
      'eval.py',
    ]);
    const gang = rt.runArgv({ name, image: 'i', command: ['torchrun'], envFile: '/k/env', hostNetwork: true });
    expect(gang.slice(11, 13)).toEqual(['--network', 'host']);
  });

  it('a task stopped past its grace has its container killed, not only the CLI', async () => {
    const stop = new AbortController();
    const run = runTask({
      // A trainer that ignores SIGTERM (the grace ends, the SIGKILL comes).
      run: { image: 'ghcr.io/team/train:1', command: ['sh', '-c', 'trap "" TERM; sleep 300'] },
      env: { KUMO_JOB_ID: 'job_01', KUMO_TASK_INDEX: '3', KUMO_WORKER_ID: 'vm-1' },
      timeoutMs: 60_000,
      killGraceMs: 200,
      signal: stop.signal,
      clock: wallClock,
      sandbox: taskHost().sandbox,
      containers: new ContainerRuntime('vm-1', docker),
    });
    const [name, pid] = await waitFor(async () => [...containers()][0], { what: 'the container to start' });
    expect(name).toMatch(/^kumo-job_01-3-/);
    stop.abort();
    await expect(run).rejects.toMatchObject({ code: 'TASK_CANCELLED' });
    await waitFor(async () => !alive(pid) || undefined, { timeoutMs: 5000, what: 'the container to be killed' });
  });

  it('a worker starting removes the containers its earlier run left, and no other worker’s', async () => {
    const start = (worker: string): void => {
      const rt = new ContainerRuntime(worker, docker);
      const argv = rt.runArgv({
        name: rt.nameFor('job_02', 0),
        image: 'i',
        command: ['sleep', '300'],
        envFile: '/k/env',
        hostNetwork: false,
      });
      // Its CLI gone, as with a worker killed -9: the container runs on.
      spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' }).unref();
    };
    start('vm-1');
    start('vm-2');
    const before = await waitFor(async () => (containers().size === 2 ? containers() : undefined), {
      what: 'both containers',
    });
    const mine = [...before].find(([n]) => readFileSync(join(state, n), 'utf8').includes('kumo.worker=vm-1'))!;
    const theirs = [...before].find(([n]) => n !== mine[0])!;
    expect(await new ContainerRuntime('vm-1', docker).removeLeftovers(log)).toBe(1);
    await waitFor(async () => !alive(mine[1]) || undefined, { timeoutMs: 5000, what: 'the leftover container to go' });
    expect(alive(theirs[1])).toBe(true);
    // No daemon at all (a machine without docker): nothing to remove, no error.
    expect(await new ContainerRuntime('vm-1', '/bin/false').removeLeftovers(log)).toBe(0);
  });
});
