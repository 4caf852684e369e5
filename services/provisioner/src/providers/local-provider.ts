import { spawn, type ChildProcess } from 'node:child_process';
import {
  KumoError,
  wallClock,
  type Clock,
  type CreateVmRequest,
  type FleetProvider,
  type Logger,
  type VmInfo,
} from '@kumo/shared';

interface LocalVm {
  info: VmInfo;
  child: ChildProcess;
  exited: Promise<void>;
}

export interface LocalProviderOptions {
  /** argv that starts one worker (its command line includes `worker`). */
  workerArgv: string[];
  /** Environment for every worker (REDIS_URL, KUMO_PREFIX, ...); the VM's own settings are added. */
  env: Record<string, string>;
  /**
   * The environment the control plane's process was started with, from its main: each worker starts
   * from it (PATH, HOME, PUBSUB_EMULATOR_HOST, ...) less the control plane's secrets, as a VM's agent
   * starts from its machine's.
   */
  inheritedEnv: NodeJS.ProcessEnv;
  cwd?: string;
  logger: Logger;
  clock?: Clock;
  /** After SIGTERM, how long a worker may drain before SIGKILL. */
  stopGraceMs?: number;
}

/**
 * The local fleet: each "VM" is a worker process on this machine, so it can die alone (kill -9) like a
 * VM, and the control plane notices and starts another. Workers get an IPC channel: when the control
 * plane dies, they hand their tasks back and exit instead of running on as orphans.
 */
export class LocalProvider implements FleetProvider {
  readonly kind = 'local' as const;
  private readonly vms = new Map<string, LocalVm>();
  private readonly clock: Clock;

  constructor(private readonly opts: LocalProviderOptions) {
    this.clock = opts.clock ?? wallClock;
  }

  async create(req: CreateVmRequest): Promise<VmInfo> {
    const existing = this.vms.get(req.name);
    if (existing) return existing.info; // a redelivered create: the same "VM"
    const [cmd, ...args] = this.opts.workerArgv;
    const child = spawn(cmd!, args, {
      cwd: this.opts.cwd,
      env: {
        ...withoutSecrets(this.opts.inheritedEnv),
        ...this.opts.env,
        KUMO_POOL: req.spec.pool,
        KUMO_WORKER_NAME: req.name,
        KUMO_SLOTS: String(req.spec.slots),
        // Every local "VM" is this machine: its gang ranks meet on loopback.
        KUMO_WORKER_ADDR: '127.0.0.1',
        ...req.spec.worker.extraEnv,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group, like a VM: a Ctrl-C on `npm start` reaches the control plane, which stops
      // its workers in order (drain, hand back) before Redis; a worker whose parent is gone exits anyway
      // (the IPC channel closes).
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(new KumoError('PROVIDER_REJECTED', `cannot start a local worker: ${err.message}`)),
      );
    });
    const info: VmInfo = {
      name: req.name,
      pool: req.spec.pool,
      zone: req.zone,
      status: 'running',
      preempted: false,
      createdAt: this.clock.now(),
    };
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        this.vms.delete(req.name);
        this.opts.logger.info({ vm: req.name, code, signal }, 'local worker exited');
        resolve();
      }),
    );
    this.vms.set(req.name, { info, child, exited });
    this.opts.logger.info({ vm: req.name, pid: child.pid, pool: req.spec.pool }, 'local worker started');
    return info;
  }

  async delete(name: string): Promise<void> {
    const vm = this.vms.get(name);
    if (!vm) return;
    vm.info.status = 'stopping';
    vm.child.kill('SIGTERM');
    const killer = setTimeout(() => vm.child.kill('SIGKILL'), this.opts.stopGraceMs ?? 45_000);
    await vm.exited;
    clearTimeout(killer);
  }

  async list(): Promise<VmInfo[]> {
    return [...this.vms.values()].map((v) => ({ ...v.info }));
  }

  /** Pids of the worker processes, for tests that kill them. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, v] of this.vms) if (v.child.pid) out[name] = v.child.pid;
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.vms.keys()].map((n) => this.delete(n)));
  }
}

/**
 * What only the control plane may hold. A local worker stands in for a VM, which never gets them: it
 * talks to Redis and the bus, not the admin API, and a task it runs must not find them in /proc.
 */
const CONTROL_PLANE_SECRETS = ['KUMO_ADMIN_TOKEN', 'KUMO_TOKEN_SIGNING_KEY'];

function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of CONTROL_PLANE_SECRETS) delete out[k];
  return out;
}
