import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { KumoError } from '@kumo/shared';
import { grantDirectory } from './grant-directory';

/**
 * How this worker runs other people's command tasks:
 *   isolated    each task as an unprivileged uid of its job's own, in its own pid and mount namespace
 *               (it sees only its own processes), in a scratch directory of its own, removed after;
 *   unisolated  as the agent itself: only where the admin said so (KUMO_UNISOLATED_TASKS=1), unsafe;
 *   unavailable the host cannot isolate (not root, or no unshare/setpriv) and the admin did not opt in:
 *               command tasks are refused with TASK_ISOLATION_UNAVAILABLE.
 */
export type IsolationMode = 'isolated' | 'unisolated' | 'unavailable';

export interface TaskSandboxSettings {
  /** First uid of the range tasks run as; a job's tasks get base + (hash of the job id) mod span. */
  uidBase: number;
  uidSpan: number;
  /** The group every task runs in (an admin may share a data folder with tasks through it). */
  gid: number;
  /** Where per-task scratch directories are made (a root-owned 0711 folder: tasks cannot list it). */
  scratchRoot: string;
  /** Folders under which kumo may create a task's local output or checkpoint folder for its job. */
  dataRoots: string[];
  /** KUMO_UNISOLATED_TASKS=1: run tasks as the agent where the host cannot isolate. */
  allowUnisolated: boolean;
}

export const DEFAULT_SANDBOX_SETTINGS: TaskSandboxSettings = {
  uidBase: 200_000,
  uidSpan: 65_536,
  gid: 200_000,
  scratchRoot: join(tmpdir(), 'kumo-tasks'),
  dataRoots: [],
  allowUnisolated: false,
};

/** One task's place to run: what to spawn, with which environment, where; close() removes its scratch. */
export interface SandboxedTask {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  close(): Promise<void>;
}

/**
 * PID 1 of the task's namespace. A namespace's init gets no signal it has no handler for, so a plain
 * `python3` there would ignore SIGTERM: this shell traps it and passes it on, waits for the task, and
 * exits with its status. When it exits the kernel kills everything left in the namespace, so nothing a
 * task started (even a daemon that left its process group) outlives it.
 */
const NAMESPACE_INIT = 'trap \'kill -TERM "$c" 2>/dev/null\' TERM; "$@" & c=$!; while :; do wait "$c"; s=$?; kill -0 "$c" 2>/dev/null || exit "$s"; done';

/** A job's uid: stable across workers and restarts (a resumed task can write its earlier checkpoints). */
export function jobUid(jobId: string, s: Pick<TaskSandboxSettings, 'uidBase' | 'uidSpan'>): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < jobId.length; i++) h = Math.imul(h ^ jobId.charCodeAt(i), 0x01000193) >>> 0;
  return s.uidBase + (h % s.uidSpan);
}

/**
 * Where the agent looks for the programs it runs as root: never the task's PATH (a spec's `env` may
 * set it, and an earlier task may have left a program called `unshare` in /tmp).
 */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A program's absolute path on the system PATH, or undefined. */
export function systemTool(name: string): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8', env: { PATH: SYSTEM_PATH } });
  const path = r.stdout?.trim();
  return r.status === 0 && path?.startsWith('/') ? path : undefined;
}

export class TaskSandbox {
  readonly mode: IsolationMode;
  private readonly tools = { unshare: systemTool('unshare') ?? 'unshare', setpriv: systemTool('setpriv') ?? 'setpriv' };

  constructor(
    readonly settings: TaskSandboxSettings,
    probe: { isRoot: boolean; hasTools: boolean } = { isRoot: process.getuid?.() === 0, hasTools: Boolean(systemTool('unshare') && systemTool('setpriv')) },
  ) {
    if (probe.isRoot && probe.hasTools) this.mode = 'isolated';
    else this.mode = settings.allowUnisolated ? 'unisolated' : 'unavailable';
  }

  /** One line for the operator at start, when tasks are not isolated. */
  describe(): string | undefined {
    if (this.mode === 'isolated') return undefined;
    const why = 'this host cannot isolate tasks (the worker is not root, or unshare/setpriv are missing)';
    return this.mode === 'unisolated'
      ? `${why}: KUMO_UNISOLATED_TASKS=1, so command tasks run as the worker itself and can read its secrets (unsafe)`
      : `${why}: command tasks will be refused; run the worker as root, or set KUMO_UNISOLATED_TASKS=1 (unsafe)`;
  }

  /**
   * Makes a task's place: its scratch (HOME, TMPDIR, the working directory unless the spec names one),
   * its environment (only what it was given: the documented KUMO_* variables and the spec's env), and
   * its local output and checkpoint folders, created for its uid where kumo may create them.
   */
  async open(t: { jobId: string; argv: string[]; env: Record<string, string>; cwd?: string; baseDir: string }): Promise<SandboxedTask> {
    if (this.mode === 'unavailable') {
      throw new KumoError('TASK_ISOLATION_UNAVAILABLE', 'this worker cannot isolate command tasks and KUMO_UNISOLATED_TASKS is not set');
    }
    const env = absoluteLocalPaths(t.env, t.baseDir);
    const cwd = t.cwd ? resolve(t.baseDir, t.cwd) : undefined;
    if (this.mode === 'unisolated') return { argv: t.argv, env, cwd: cwd ?? t.baseDir, close: async () => {} };

    const uid = jobUid(t.jobId, this.settings);
    const gid = this.settings.gid;
    mkdirSync(this.settings.scratchRoot, { recursive: true, mode: 0o711 });
    chmodSync(this.settings.scratchRoot, 0o711);
    const scratch = await mkdtemp(join(this.settings.scratchRoot, 't-'));
    chownSync(scratch, uid, gid);
    for (const dir of [env.KUMO_OUTPUT_PREFIX, env.KUMO_CHECKPOINT_DIR]) {
      if (dir && isAbsolute(dir)) grantDirectory(this.settings.dataRoots, dir, uid, gid);
    }
    const argv = [
      this.tools.unshare, '--pid', '--fork', '--mount-proc', '--',
      this.tools.setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--',
      '/bin/sh', '-c', NAMESPACE_INIT, 'kumo-task', ...t.argv,
    ];
    return {
      argv,
      env: { ...env, HOME: scratch, TMPDIR: scratch, USER: 'kumo-task', KUMO_SCRATCH_DIR: scratch },
      cwd: cwd ?? scratch,
      uid,
      close: () => rm(scratch, { recursive: true, force: true }),
    };
  }
}

/**
 * A task's working directory is its scratch, not the worker's: the local folders the spec names
 * relative to where kumo runs are given to it as absolute paths, so they mean what they meant.
 */
function absoluteLocalPaths(env: Record<string, string>, baseDir: string): Record<string, string> {
  const out = { ...env };
  for (const k of ['KUMO_OUTPUT_PREFIX', 'KUMO_CHECKPOINT_DIR', 'KUMO_RESUME_FROM'] as const) {
    const v = out[k];
    if (v && !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !isAbsolute(v)) out[k] = resolve(baseDir, v);
  }
  return out;
}
