import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { KumoError } from '@kumo/shared';
import { bwrapArgs } from './bwrap-args';
import { grantDirectory } from './grant-directory';

/**
 * How this worker runs other people's command tasks:
 *   isolated    as root: each task as an unprivileged uid of its job's own, in its own pid and mount
 *               namespace (it sees only its own processes), in a scratch directory of its own, removed
 *               after. Not root, with bubblewrap: in a user namespace that sees the machine read-only,
 *               with the worker's home, data folder and /etc/kumo hidden, and writes only to its
 *               scratch and the folders kumo made for its job;
 *   unisolated  as the agent itself: only where the admin said so (KUMO_UNISOLATED_TASKS=1), unsafe;
 *   unavailable the host cannot isolate (not root and no bubblewrap) and the admin did not opt in:
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
  /** Not root: folders a task must not see (the worker's home, /etc/kumo). */
  hiddenPaths: string[];
  /**
   * Not root: folders whose entries a task sees only where anyone may read them (kumo's data folder:
   * its demo data and artifacts, not its admin token, Redis password or Redis folder), as file modes
   * would decide for a task of another uid.
   */
  privateDataDirs: string[];
  /** Not root: folders under a hidden one that tasks still see, read-only (the checkout kumo runs from). */
  readOnlyPaths: string[];
}

export const DEFAULT_SANDBOX_SETTINGS: TaskSandboxSettings = {
  uidBase: 200_000,
  uidSpan: 65_536,
  gid: 200_000,
  scratchRoot: join(tmpdir(), 'kumo-tasks'),
  dataRoots: [],
  allowUnisolated: false,
  hiddenPaths: ['/etc/kumo'],
  privateDataDirs: [],
  readOnlyPaths: [],
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
 * PID 1 of the task's namespace: the task runs as its child, not as PID 1 (a namespace's init gets no
 * signal it has no handler for, so a plain `python3` there would ignore SIGTERM). The worker stops a
 * task by signalling its process group, which reaches the task itself; this shell only catches that
 * SIGTERM (passing it on too would signal the task twice, and a trainer that checkpoints on the first
 * may be cut short by the second), waits for the task and exits with its status. When it exits the
 * kernel kills everything left in the namespace, so nothing a task started (even a daemon that left its
 * process group, which the SIGKILL after the grace reaches this way) outlives it.
 */
const NAMESPACE_INIT =
  'trap : TERM; "$@" & c=$!; while :; do wait "$c"; s=$?; kill -0 "$c" 2>/dev/null || exit "$s"; done';

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

const toolPaths = new Map<string, string | undefined>();

/** A program's absolute path on the system PATH, or undefined; looked up once a process (a shell each time is not free). */
export function systemTool(name: string): string | undefined {
  if (!toolPaths.has(name)) {
    const r = spawnSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8', env: { PATH: SYSTEM_PATH } });
    const path = r.stdout?.trim();
    toolPaths.set(name, r.status === 0 && path?.startsWith('/') ? path : undefined);
  }
  return toolPaths.get(name);
}

/** What the host offers: root (a uid per job), or bubblewrap's user namespaces. */
export interface HostProbe {
  isRoot: boolean;
  hasTools: boolean;
  hasBwrap: boolean;
}

function probeHost(): HostProbe {
  return {
    isRoot: process.getuid?.() === 0,
    hasTools: Boolean(systemTool('unshare') && systemTool('setpriv')),
    hasBwrap: Boolean(systemTool('bwrap')),
  };
}

export class TaskSandbox {
  readonly mode: IsolationMode;
  /** How an isolated task is launched: as a uid of its own (root), or in bubblewrap's user namespace. */
  readonly strategy: 'uid' | 'userns' | undefined;
  private readonly tools = {
    unshare: systemTool('unshare') ?? 'unshare',
    setpriv: systemTool('setpriv') ?? 'setpriv',
    bwrap: systemTool('bwrap') ?? 'bwrap',
  };

  constructor(
    readonly settings: TaskSandboxSettings,
    probe: HostProbe = probeHost(),
  ) {
    this.strategy = probe.isRoot && probe.hasTools ? 'uid' : probe.hasBwrap ? 'userns' : undefined;
    if (this.strategy) this.mode = 'isolated';
    else this.mode = settings.allowUnisolated ? 'unisolated' : 'unavailable';
  }

  /** One line for the operator at start, when tasks are not isolated. */
  describe(): string | undefined {
    if (this.mode === 'isolated') return undefined;
    const why = 'this host cannot isolate tasks (the worker is not root, and bubblewrap (bwrap) is not installed)';
    return this.mode === 'unisolated'
      ? `${why}: KUMO_UNISOLATED_TASKS=1, so command tasks run as the worker itself and can read its secrets (unsafe)`
      : `${why}: command tasks will be refused; install bubblewrap, run the worker as root, or set KUMO_UNISOLATED_TASKS=1 (unsafe)`;
  }

  /**
   * Makes a task's place: its scratch (HOME, TMPDIR, the working directory unless the spec names one),
   * its environment (only what it was given: the documented KUMO_* variables and the spec's env), and
   * its local output and checkpoint folders, created for its uid where kumo may create them.
   */
  async open(t: {
    jobId: string;
    argv: string[];
    env: Record<string, string>;
    cwd?: string;
    baseDir: string;
  }): Promise<SandboxedTask> {
    if (this.mode === 'unavailable') {
      throw new KumoError(
        'TASK_ISOLATION_UNAVAILABLE',
        'this worker cannot isolate command tasks and KUMO_UNISOLATED_TASKS is not set',
      );
    }
    const env = absoluteLocalPaths(t.env, t.baseDir);
    const cwd = t.cwd ? resolve(t.baseDir, t.cwd) : undefined;
    if (this.mode === 'unisolated') return { argv: t.argv, env, cwd: cwd ?? t.baseDir, close: async () => {} };

    const userns = this.strategy === 'userns';
    // In a user namespace the task is the worker's own uid outside it: what hides things is the mount
    // namespace, not file modes.
    const uid = userns ? (process.getuid?.() ?? 0) : jobUid(t.jobId, this.settings);
    const gid = userns ? (process.getgid?.() ?? 0) : this.settings.gid;
    // Every time (three system calls): a /tmp cleaner may have removed it since, and a task made it anew.
    ownedFolder(this.settings.scratchRoot);
    const scratch = await mkdtemp(join(this.settings.scratchRoot, 't-'));
    if (!userns) chownSync(scratch, uid, gid);
    const granted: string[] = [];
    for (const dir of [env.KUMO_OUTPUT_PREFIX, env.KUMO_CHECKPOINT_DIR]) {
      if (dir && isAbsolute(dir) && grantDirectory(this.settings.dataRoots, dir, uid, gid)) granted.push(resolve(dir));
    }
    const init = ['/bin/sh', '-c', NAMESPACE_INIT, 'kumo-task', ...t.argv];
    const argv = userns
      ? [
          this.tools.bwrap,
          ...bwrapArgs({
            hidden: [...this.settings.hiddenPaths, this.settings.scratchRoot],
            privateDataDirs: this.settings.privateDataDirs,
            readOnly: this.settings.readOnlyPaths,
            writable: [scratch, ...granted],
            cwd: cwd ?? scratch,
          }),
          '--',
          ...init,
        ]
      : [
          // Tied to the worker: if it dies (kill -9, the OOM killer) its tasks die with it, not run on
          // beside the copy the task's redelivery starts. The worker's death kills unshare (the first
          // setpriv sets its parent-death signal, then execs it); unshare's kills the namespace's init (the
          // second setpriv sets it again after the uid change, which clears it); the kernel ends the rest.
          this.tools.setpriv,
          '--pdeathsig',
          'KILL',
          '--',
          this.tools.unshare,
          '--pid',
          '--fork',
          '--kill-child',
          '--mount-proc',
          '--',
          this.tools.setpriv,
          `--reuid=${uid}`,
          `--regid=${gid}`,
          '--pdeathsig',
          'KILL',
          '--clear-groups',
          '--no-new-privs',
          '--inh-caps=-all',
          '--bounding-set=-all',
          '--',
          ...init,
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
 * The scratch root, made 0711 and checked to be the worker's own real folder: it sits in a world-writable
 * /tmp, where a task could have made it first (or a symlink by its name), and the worker chowns what it
 * makes inside it.
 */
function ownedFolder(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o711 });
  const st = lstatSync(path);
  if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== (process.getuid?.() ?? 0)) {
    throw new KumoError('TASK_PATH_REFUSED', `the task scratch folder '${path}' is not this worker's own folder`);
  }
  chmodSync(path, 0o711);
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
