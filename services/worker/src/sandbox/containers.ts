import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@kumo/shared';
import { SYSTEM_PATH, systemTool } from './task-sandbox';

/** The label every container of an image task carries: the worker that started it. */
export const WORKER_LABEL = 'kumo.worker';

/** How long one docker CLI call (kill, ps, rm) may take: a daemon that hangs must not hold a worker. */
const CALL_TIMEOUT_MS = 30_000;

/**
 * Where image tasks run: containers of the machine's dockerd, through the docker CLI, run by the agent
 * (the task's identity never gets the docker socket). A container is dockerd's child, not the
 * worker's: a SIGKILL to the CLI (a task stopped past its grace) does not reach it, and a worker that
 * dies (kill -9, the OOM killer, a crash that systemd restarts) leaves it running, on the GPU the next
 * task needs, as a copy of a task that another worker runs by then. So each container is named, and
 * labelled with its worker: a task stopped past its grace has its container removed by name before its
 * slot is free, and a worker starting on a machine removes what an earlier run of it left (`removeLeftovers`).
 */
export class ContainerRuntime {
  readonly docker: string;

  constructor(
    /** The worker's name: stable across restarts on a VM (the VM's name). */
    private readonly worker: string,
    docker?: string,
    private readonly log?: Logger,
  ) {
    this.docker = docker ?? systemTool('docker') ?? 'docker';
  }

  /** A name for one run of a task's container; unique, so that a rerun on this machine never collides. */
  nameFor(jobId: string, index: number): string {
    return `kumo-${jobId}-${index}-${randomBytes(4).toString('hex')}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
  }

  /**
   * `docker run` for an image task: every GPU, the task's environment from a file (values never on the
   * command line). A gang rank shares the VM's network, so that its peers reach MASTER_ADDR:MASTER_PORT
   * and NCCL sees the real interfaces.
   */
  runArgv(o: { name: string; image: string; command: string[]; envFile: string; hostNetwork: boolean }): string[] {
    return [
      this.docker,
      'run',
      '--rm',
      '--name',
      o.name,
      '--label',
      `${WORKER_LABEL}=${this.worker}`,
      '--gpus',
      'all',
      '--security-opt',
      'no-new-privileges',
      ...(o.hostNetwork ? ['--network', 'host'] : []),
      '--env-file',
      o.envFile,
      o.image,
      ...o.command,
    ];
  }

  /**
   * Stops a task's container at once and removes it (`rm -f`: a container created and not started yet
   * too, which `docker kill` would miss). One gone already answers an error, which is only logged.
   */
  async kill(name: string): Promise<void> {
    await this.call(['rm', '-f', name]).catch((err: unknown) =>
      this.log?.warn({ err, container: name }, 'task container not removed'),
    );
  }

  /**
   * Removes every container this worker's earlier runs left on the machine. Answers how many; a machine
   * with no docker daemon has none (an error is logged, not thrown: command tasks still run).
   */
  async removeLeftovers(log: Logger): Promise<number> {
    let ids: string[];
    try {
      ids = (await this.call(['ps', '-aq', '--filter', `label=${WORKER_LABEL}=${this.worker}`]))
        .split('\n')
        .filter(Boolean);
    } catch (err) {
      log.info(
        { why: (err instanceof Error ? err.message : String(err)).trim().split('\n').pop() },
        'no docker daemon answered: no leftover containers to look for',
      );
      return 0;
    }
    if (ids.length === 0) return 0;
    try {
      await this.call(['rm', '-f', ...ids]);
    } catch (err) {
      log.warn({ err, containers: ids }, 'leftover containers of an earlier run of this worker not removed');
      return 0;
    }
    log.warn({ containers: ids.length }, 'removed the containers an earlier run of this worker left');
    return ids.length;
  }

  private call(args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile(
        this.docker,
        args,
        { env: { PATH: SYSTEM_PATH }, timeout: CALL_TIMEOUT_MS, encoding: 'utf8' },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
  }
}
