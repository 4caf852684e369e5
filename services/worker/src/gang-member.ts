import { networkInterfaces } from 'node:os';
import type { Admission, Clock, Gang, GangPlacement, GangStore, JobSpecCache, Logger } from '@kumo/shared';
import { awaitGang } from './gang-rendezvous';
import type { RunningTask, RunningTasks } from './running-tasks';
import { TaskFailure } from './task-runner';

/** How soon a gang rank that found this worker holding another rank of its gang comes back. */
const GANG_BUSY_RECHECK_MS = 2000;

export interface GangMembershipOptions {
  gangs: GangStore;
  jobs: JobSpecCache;
  workerId: string;
  /** Where other VMs reach this one: rank 0's is its peers' MASTER_ADDR. */
  addr: string;
  clock: Clock;
  log: Logger;
}

/**
 * This worker's part in gangs (training on several VMs at once): a rank joins its gang's generation
 * in Redis, waits there for the others, runs as part of the gang once all met, and ends the
 * generation when it stops, so that the whole gang runs again together.
 */
export class GangMembership {
  constructor(private readonly o: GangMembershipOptions) {}

  /**
   * Joins the gang's current generation for this delivery (`holder`: its lock token). Not joined: the
   * rank does not run now (its job ended, or this VM holds another rank of the gang already).
   */
  async join(
    jobId: string,
    rank: number,
    holder: string,
  ): Promise<{ gen: number } | { admission: Exclude<Admission, { verdict: 'run' }> }> {
    const joined = await this.o.gangs.join(jobId, { rank, worker: this.o.workerId, addr: this.o.addr, holder });
    if (joined.outcome === 'ended') return { admission: { verdict: 'skip', why: 'job-ended' } };
    // One rank of a gang per VM: another VM takes this one.
    if (joined.outcome === 'busy')
      return { admission: { verdict: 'wait', why: 'gang-not-here', retryInMs: GANG_BUSY_RECHECK_MS } };
    return { gen: joined.gen };
  }

  /**
   * A rank waits for the rest of its generation. Formed: where each rank runs. Otherwise the rank does
   * not run now: it is stopped as `gang` (back to the queue, no attempt used), or fails for good when its
   * gang can never meet again.
   */
  async meet(task: RunningTask, gang: Gang, running: RunningTasks): Promise<GangPlacement> {
    const joined = task.gang!;
    const held = async (): Promise<boolean> => (await this.o.jobs.get(task.jobId))?.state === 'paused';
    const met = await awaitGang({
      gangs: this.o.gangs,
      jobId: task.jobId,
      rank: task.index,
      size: gang.size,
      gen: joined.gen,
      holder: task.token,
      timeoutMs: gang.timeoutMs,
      clock: this.o.clock,
      signal: task.abort.signal,
      held,
    });
    this.o.log.info({ jobId: task.jobId, rank: task.index, gen: joined.gen, outcome: met.outcome }, 'gang rendezvous');
    switch (met.outcome) {
      case 'formed':
        joined.formed = true;
        return { rank: task.index, hosts: met.hosts, port: gang.port };
      case 'incomplete':
        throw new TaskFailure(
          'GANG_INCOMPLETE',
          `rank ${met.rank} of this gang already finished for good: the gang cannot meet again`,
          '',
        );
      case 'broken':
      case 'timeout':
        running.stop(task, 'gang');
        throw new TaskFailure('TASK_CANCELLED', `the gang did not meet (${met.outcome})`, '');
      case 'stopped':
        throw new TaskFailure('TASK_CANCELLED', 'stopped at the gang rendezvous', '');
      case 'held':
        running.stop(task, 'paused');
        throw new TaskFailure('TASK_CANCELLED', 'the job was paused at the gang rendezvous', '');
    }
  }

  /** Ends the generation `t` ran in; false if it had ended already (or the job with it). */
  async endGeneration(t: RunningTask): Promise<boolean> {
    try {
      return await this.o.gangs.breakGeneration(t.jobId, t.gang!.gen);
    } catch (err) {
      this.o.log.warn({ err, jobId: t.jobId, rank: t.index }, 'gang generation not ended');
      return false;
    }
  }

  /**
   * Running ranks whose generation has ended are stopped: the gang-stop message travels on pub/sub,
   * which a reconnecting subscriber misses, so each heartbeat also looks.
   */
  async check(running: RunningTasks): Promise<void> {
    for (const t of running.values()) {
      if (!t.gang?.formed || t.stopping) continue;
      const gen = await this.o.gangs.generation(t.jobId);
      if (gen !== undefined && gen !== t.gang.gen) running.stop(t, 'gang');
    }
  }

  /** A `gang-stop` heard on the control channel: the generation `gen` of `jobId` ended. */
  onGangStop(running: RunningTasks, jobId: string, gen: number | undefined): void {
    for (const t of running.values())
      if (t.jobId === jobId && t.gang?.formed && t.gang.gen === gen) running.stop(t, 'gang');
  }
}

/** The first non-internal IPv4 address of this machine (a VM's internal IP on GCE), else loopback. */
export function defaultAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}
