import type { Redis } from 'ioredis';
import type { EffectivePolicy } from '../catalog/index';
import { storeScripts } from '../store/scripts';
import { taskJobOptions } from './task-queue';

/** The BullMQ keys of one queue the feed script touches (a Queue's `keys` and `toKey('')`). */
export interface QueueKeyNames {
  keys: Partial<Record<'wait' | 'paused' | 'meta' | 'active' | 'events' | 'marker' | 'id', string>>;
  toKey(type: string): string;
}

/** Tasks per script call: many per round trip, yet Redis is never held for long (~5 ms). */
const CHUNK = 500;

/**
 * Adds tasks [from, to) of a kumo job to a pool's BullMQ queue, as BullMQ's addBulk would, in Redis
 * (store/lua/feedTasks-8.lua): one call per 500 tasks instead of a client-side Job object and script call
 * per task. Tasks already final in the job's `done` bitmap (a skip, or left out of a rerun) are not
 * added. Returns how many were new.
 */
export async function addTaskRange(
  redis: Redis,
  queue: QueueKeyNames,
  r: {
    jobId: string;
    from: number;
    to: number;
    name: string;
    policy: EffectivePolicy;
    timestamp: number;
    done: string;
    front?: boolean;
  },
): Promise<number> {
  const k = queue.keys;
  const need = (key: string | undefined): string => {
    if (!key) throw new Error('BullMQ queue keys incomplete');
    return key;
  };
  const keys = {
    wait: need(k.wait),
    paused: need(k.paused),
    meta: need(k.meta),
    active: need(k.active),
    events: need(k.events),
    marker: need(k.marker),
    id: need(k.id),
    done: r.done,
  };
  // Every task's options are the same but for its queue id, which the script adds.
  const { jobId: _perTask, ...opts } = taskJobOptions(r.jobId, r.from, r.policy);
  const optsHead = JSON.stringify(opts).slice(0, -1);
  const calls: Promise<number>[] = [];
  for (let from = r.from; from < r.to; from += CHUNK) {
    calls.push(
      storeScripts.feedTasks.run(redis, keys, [
        queue.toKey(''),
        r.jobId,
        from,
        Math.min(r.to, from + CHUNK),
        r.name,
        r.timestamp,
        optsHead,
        r.front ? '1' : '',
      ]),
    );
  }
  return (await Promise.all(calls)).reduce((sum, n) => sum + n, 0);
}
