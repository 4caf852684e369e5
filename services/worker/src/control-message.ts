import type { JobSpecCache } from '@kumo/shared';
import type { GangMembership } from './gang-member';
import type { RunningTasks } from './running-tasks';

/** A message on the control channel (stop, gang-stop, preempt), carried out on this worker's running tasks. */
export function onControlMessage(
  msg: string,
  { jobs, running, gangs }: { jobs: JobSpecCache; running: RunningTasks; gangs: GangMembership },
): void {
  let m: { type?: string; jobId?: string; gen?: number; indices?: number[] };
  try {
    m = JSON.parse(msg) as typeof m;
  } catch {
    return;
  }
  if (!m.jobId) return;
  if (m.type === 'stop') {
    jobs.markStopped(m.jobId);
    running.stopJob(m.jobId, 'cancel');
  } else if (m.type === 'gang-stop') gangs.onGangStop(running, m.jobId, m.gen);
  else if (m.type === 'preempt' && Array.isArray(m.indices)) {
    // The scheduler names the tasks whose slots a job of higher priority takes; whichever worker runs them hands them back.
    const named = new Set(m.indices);
    for (const t of running.values()) if (t.jobId === m.jobId && named.has(t.index)) running.stop(t, 'preempted');
  }
}
