import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile, chmod, chown, symlink, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wallClock } from '@kumo/shared';
import { taskHost } from '../../../../test/support/task-host';
import { runTask } from '../task-runner';
import { DEFAULT_SANDBOX_SETTINGS, jobUid, TaskSandbox } from './task-sandbox';

const run = (command: string[], env: Record<string, string> = {}, sandbox: TaskSandbox = taskHost().sandbox) =>
  runTask({
    run: { command },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KUMO_JOB_ID: 'job-sandbox-test', ...env },
    timeoutMs: 20_000,
    signal: new AbortController().signal,
    clock: wallClock,
    sandbox,
  });

describe('TaskSandbox (the worker runs as root: the isolated path)', () => {
  it('runs a task as its job uid, in its own scratch, seeing only its own processes', async () => {
    const out = await run([
      'python3',
      '-c',
      `import os,json; print('::kumo::result ' + json.dumps({"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "cwd": os.getcwd(), "home": os.environ["HOME"], "pids": sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}))`,
    ]);
    const r = out.result as { uid: number; gid: number; groups: number[]; cwd: string; home: string; pids: number[] };
    expect(r.uid).toBe(jobUid('job-sandbox-test', DEFAULT_SANDBOX_SETTINGS));
    expect(r.gid).toBe(DEFAULT_SANDBOX_SETTINGS.gid);
    expect(r.groups).toEqual([]);
    expect(r.cwd).toBe(r.home);
    expect(r.cwd.startsWith(DEFAULT_SANDBOX_SETTINGS.scratchRoot)).toBe(true);
    // PID 1 (the namespace's init) and the task itself (and nothing of the host: not the worker, not Redis).
    expect(r.pids.length).toBeLessThanOrEqual(3);
    // The scratch is removed after the task.
    await expect(stat(r.cwd)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('cannot read a root-only file, nor the environment of the worker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kumo-secret-'));
    await writeFile(join(dir, 'admin-token'), 'the-secret\n', { mode: 0o600 });
    await chmod(dir, 0o755);
    const code = `
import os, json
found = []
try: found.append(open(${JSON.stringify(join(dir, 'admin-token'))}).read())
except Exception as e: pass
try: found.append(open('/proc/${process.pid}/environ').read())
except Exception as e: pass
print('::kumo::result ' + json.dumps({"found": found, "env": sorted(os.environ)}))`;
    const out = await run(['python3', '-c', code]);
    const r = out.result as { found: string[]; env: string[] };
    expect(r.found).toEqual([]);
    expect(r.env).not.toContain('REDIS_URL');
    expect(await readFile(join(dir, 'admin-token'), 'utf8')).toBe('the-secret\n');
  });

  it('passes SIGTERM on to the task (a namespace init would ignore it) and kills what the task left behind', async () => {
    const ac = new AbortController();
    const marker = join(await mkdtemp(join(tmpdir(), 'kumo-term-')), 'x');
    await chmod(join(marker, '..'), 0o777);
    const p = runTask({
      run: {
        command: [
          'python3',
          '-c',
          `import signal,sys,time,subprocess\nsubprocess.Popen(['sleep','300'], start_new_session=True)\ndef h(*a):\n    open(${JSON.stringify(marker)},'w').write('term'); sys.exit(0)\nsignal.signal(signal.SIGTERM,h)\nprint('ready', flush=True)\ntime.sleep(60)`,
        ],
      },
      env: { PATH: process.env.PATH ?? '', KUMO_JOB_ID: 'job-term' },
      timeoutMs: 30_000,
      signal: ac.signal,
      clock: wallClock,
      sandbox: taskHost().sandbox,
    });
    await new Promise((r) => setTimeout(r, 1500));
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'TASK_CANCELLED' });
    expect(await readFile(marker, 'utf8')).toBe('term');
    // The daemon it started in a session of its own died with the namespace.
    const left = spawnSync('pgrep', ['-u', String(jobUid('job-term', DEFAULT_SANDBOX_SETTINGS)), '-f', 'sleep 300'], {
      encoding: 'utf8',
    });
    expect(left.stdout.trim()).toBe('');
  });

  it('refuses command tasks where it cannot isolate, unless the admin opted in', async () => {
    const none = new TaskSandbox(DEFAULT_SANDBOX_SETTINGS, { isRoot: false, hasTools: true, hasBwrap: false });
    expect(none.mode).toBe('unavailable');
    await expect(run(['true'], {}, none)).rejects.toMatchObject({
      code: 'TASK_ISOLATION_UNAVAILABLE',
      retryable: false,
    });
    const optedIn = new TaskSandbox(
      { ...DEFAULT_SANDBOX_SETTINGS, allowUnisolated: true },
      { isRoot: false, hasTools: false, hasBwrap: false },
    );
    expect(optedIn.mode).toBe('unisolated');
    expect(optedIn.describe()).toMatch(/KUMO_UNISOLATED_TASKS=1/);
    await expect(run(['true'], {}, optedIn)).resolves.toBeDefined();
  });

  it('without root, in a bubblewrap user namespace: the home and the data folder secrets hidden, its demo data, /tmp and the checkout read-only, its own processes only', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kumo-home-'));
    const checkout = join(home, 'kumo');
    await mkdir(join(checkout, '.kumo'), { recursive: true });
    await writeFile(join(home, 'gcloud-credentials'), 'home-secret');
    await writeFile(join(checkout, '.kumo', 'admin-token'), 'data-secret', { mode: 0o600 });
    await mkdir(join(checkout, '.kumo', 'redis'), { mode: 0o700 });
    await writeFile(join(checkout, '.kumo', 'redis', 'appendonly.aof'), 'every-record', { mode: 0o644 });
    await mkdir(join(checkout, '.kumo', 'demo'));
    await writeFile(join(checkout, '.kumo', 'demo', 'input.txt'), 'demo-data');
    await writeFile(join(tmpdir(), `kumo-sandbox-input-${process.pid}`), 'tmp-input');
    await writeFile(join(checkout, 'README'), 'readable');
    const out = join(checkout, '.kumo', 'artifacts', 'jobs', 'j', 'checkpoints');
    const sandbox = new TaskSandbox(
      {
        ...DEFAULT_SANDBOX_SETTINGS,
        hiddenPaths: [home],
        privateDataDirs: [join(checkout, '.kumo')],
        readOnlyPaths: [checkout],
        dataRoots: [join(checkout, '.kumo', 'artifacts')],
      },
      { isRoot: false, hasTools: true, hasBwrap: true },
    );
    expect(sandbox.strategy).toBe('userns');
    const code = `
import os, json
def tryread(p):
    try: return open(p).read()
    except Exception as e: return type(e).__name__
def trywrite(p):
    try: open(p, 'w').write('x'); return 'WROTE'
    except Exception as e: return type(e).__name__
print('::kumo::result ' + json.dumps({
  "home": tryread(${JSON.stringify(join(home, 'gcloud-credentials'))}),
  "token": tryread(${JSON.stringify(join(checkout, '.kumo', 'admin-token'))}),
  "readme": tryread(${JSON.stringify(join(checkout, 'README'))}),
  "aof": tryread(${JSON.stringify(join(checkout, '.kumo', 'redis', 'appendonly.aof'))}),
  "demo": tryread(${JSON.stringify(join(checkout, '.kumo', 'demo', 'input.txt'))}),
  "tmpInput": tryread(${JSON.stringify(join(tmpdir(), `kumo-sandbox-input-${process.pid}`))}),
  "writeCheckout": trywrite(${JSON.stringify(join(checkout, 'x'))}),
  "writeCheckpoint": trywrite(os.environ['KUMO_CHECKPOINT_DIR'] + '/step-1'),
  "pids": len([p for p in os.listdir('/proc') if p.isdigit()]),
}))`;
    const r = (await run(['python3', '-c', code], { KUMO_CHECKPOINT_DIR: out }, sandbox)).result as Record<
      string,
      unknown
    >;
    expect(r.token).not.toBe('data-secret');
    expect(r).toMatchObject({
      home: 'FileNotFoundError',
      aof: 'FileNotFoundError',
      readme: 'readable',
      demo: 'demo-data',
      tmpInput: 'tmp-input',
      writeCheckpoint: 'WROTE',
    });
    expect(r.writeCheckout).not.toBe('WROTE');
    expect(r.pids).toBeLessThanOrEqual(3);
    expect(await readFile(join(out, 'step-1'), 'utf8')).toBe('x');
  });

  it("refuses a scratch root that is not the worker's own (a task could have made it first in /tmp)", async () => {
    const base = await mkdtemp(join(tmpdir(), 'kumo-scratch-'));
    await chmod(base, 0o755);
    const planted = join(base, 'planted');
    await mkdir(planted);
    await chown(planted, 200_001, 200_000);
    const link = join(base, 'link');
    await symlink('/etc', link);
    for (const scratchRoot of [planted, link]) {
      await expect(
        run(['true'], {}, new TaskSandbox({ ...DEFAULT_SANDBOX_SETTINGS, scratchRoot })),
      ).rejects.toMatchObject({ code: 'TASK_PATH_REFUSED' });
    }
    expect((await stat('/etc')).uid).toBe(0);
  });

  it('creates a local output folder for the job under a data root, and never follows a symlink there', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kumo-data-'));
    await chmod(root, 0o755);
    const sandbox = new TaskSandbox({ ...DEFAULT_SANDBOX_SETTINGS, dataRoots: [root] });
    const out = join(root, 'out', 'task-0');
    await run(['sh', '-c', 'echo hi > "$KUMO_OUTPUT_PREFIX/x"'], { KUMO_OUTPUT_PREFIX: out }, sandbox);
    expect(await readFile(join(out, 'x'), 'utf8')).toBe('hi\n');
    await mkdir(join(root, 'evil'));
    await symlink('/etc', join(root, 'evil', 'link'));
    await expect(
      run(['true'], { KUMO_OUTPUT_PREFIX: join(root, 'evil', 'link', 'task-0') }, sandbox),
    ).rejects.toMatchObject({ code: 'TASK_PATH_REFUSED' });
  });
});
