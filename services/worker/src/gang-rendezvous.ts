import type { Clock, GangStore } from '@kumo/shared';

/** How a rank's wait for the rest of its gang ended. */
export type GangWait =
  /** Every rank joined this generation: `hosts` by rank. */
  | { outcome: 'formed'; hosts: string[] }
  /** The generation ended before it formed (a rank failed or was lost): back to the queue, join the next. */
  | { outcome: 'broken' }
  /** Not every rank came within the rendezvous timeout (no VM for them yet): back to the queue. */
  | { outcome: 'timeout' }
  /** A rank already finished for good, so this gang can never meet again. */
  | { outcome: 'incomplete'; rank: number }
  /** This run was stopped while it waited (cancel, hand-back, shutdown). */
  | { outcome: 'stopped' }
  /** The job was paused while this rank waited: it goes back with the job's other held tasks. */
  | { outcome: 'held' };

export interface GangWaitInput {
  gangs: GangStore;
  jobId: string;
  rank: number;
  size: number;
  /** The generation this run joined. */
  gen: number;
  holder: string;
  timeoutMs: number;
  clock: Clock;
  signal: AbortSignal;
  /** Whether the job is held now (paused): a rank that has not met its gang stops waiting then. */
  held?: () => Promise<boolean>;
  pollMs?: number;
}

/**
 * Waits until every rank of the gang has joined generation `gen`. A rank that gives up (timeout, stop,
 * a pause) leaves the generation first, so that its next run joins it again rather than looking like a
 * lost one.
 */
export async function awaitGang(o: GangWaitInput): Promise<GangWait> {
  const until = o.clock.now() + o.timeoutMs;
  for (;;) {
    const view = await o.gangs.view(o.jobId, o.size);
    if (view.gen !== o.gen) return { outcome: 'broken' };
    if (view.members.length === o.size) return { outcome: 'formed', hosts: view.members.map((m) => m.addr) };
    const gone = view.finished.find((r) => r !== o.rank && !view.members.some((m) => m.rank === r));
    if (gone !== undefined) {
      await o.gangs.leave(o.jobId, o.rank, o.holder, o.size);
      return { outcome: 'incomplete', rank: gone };
    }
    if (o.held && (await o.held())) {
      if ((await o.gangs.leave(o.jobId, o.rank, o.holder, o.size)) !== 'formed') return { outcome: 'held' };
      continue; // formed just now: a gang in flight runs on through a pause, as any task in flight does
    }
    if (o.signal.aborted || o.clock.now() >= until) {
      // The last rank may have joined since the view above: then leaving would strand the others.
      if ((await o.gangs.leave(o.jobId, o.rank, o.holder, o.size)) !== 'formed')
        return { outcome: o.signal.aborted ? 'stopped' : 'timeout' };
      if (!o.signal.aborted) continue; // formed just in time: the next view says so
      // Formed, but this run is being stopped: the others must not run without it.
      await o.gangs.breakGeneration(o.jobId, o.gen);
      return { outcome: 'stopped' };
    }
    await o.clock.sleep(Math.min(o.pollMs ?? 250, Math.max(1, until - o.clock.now())), o.signal);
  }
}
