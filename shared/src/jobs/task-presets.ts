import type { Redis } from 'ioredis';
import type { JobSpec, SkipSpec } from '../catalog/index';
import { KumoError, type ErrorIssue } from '../errors';
import type { Keys } from '../store/keys';

/** Which tasks of an ended job a rerun runs: those that failed for good, or all that did not succeed. */
export type RerunTasks = 'failed' | 'unfinished';

/** A rerun: the job whose tasks it runs again, and which of them. */
export interface RerunOf {
  jobId: string;
  tasks: RerunTasks;
}

/**
 * The tasks of a new job that are final before it starts, as its done bitmap: the spec's `skip`, or, for
 * a rerun, every task but the chosen ones. Preset bits are never fed (feedTasks skips them, advanceFeed
 * steps over runs of them) nor counted twice (applyTaskEvents' SETBIT finds them set).
 */
export interface TaskPreset {
  /** Bits set, within [0, total). */
  count: number;
  /** The first task not preset: where feeding starts (total when none is left). */
  firstFree: number;
  /** The bitmap, ceil(total / 8) bytes; no bit set at or past `total`. */
  bits: Buffer;
}

const bytesFor = (total: number): number => Math.ceil(total / 8);

function setRange(bits: Buffer, from: number, to: number): void {
  let i = from;
  for (; i < to && i % 8 !== 0; i++) bits[i >> 3]! |= 0x80 >> (i & 7);
  if (i + 8 <= to) {
    bits.fill(0xff, i >> 3, to >> 3);
    i = to & ~7;
  }
  for (; i < to; i++) bits[i >> 3]! |= 0x80 >> (i & 7);
}

function popcount(bits: Buffer): number {
  let n = 0;
  for (const byte of bits) {
    let b = byte;
    while (b) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}

/** The index of the `n`th task (0-based) not preset; total when fewer are left. */
function nthClear(bits: Buffer, total: number, n: number): number {
  let seen = 0;
  for (let byte = 0; byte < bits.length; byte++) {
    if (bits[byte] === 0xff) continue;
    for (let i = byte * 8; i < Math.min(total, byte * 8 + 8); i++)
      if (!(bits[byte]! & (0x80 >> (i & 7))) && seen++ === n) return i;
  }
  return total;
}

/** A job's done and failed bitmaps, cut or padded to `bytes`. */
async function bitmapsOf(
  redis: Redis,
  keys: Keys,
  jobId: string,
  bytes: number,
): Promise<{ done: Buffer; failed: Buffer }> {
  const [done, failed] = await Promise.all([
    redis.getrangeBuffer(keys.jobDone(jobId), 0, bytes - 1),
    redis.getrangeBuffer(keys.jobFailedBits(jobId), 0, bytes - 1),
  ]);
  const pad = (b: Buffer): Buffer => (b.length === bytes ? b : Buffer.concat([b, Buffer.alloc(bytes - b.length)]));
  return { done: pad(done), failed: pad(failed) };
}

/**
 * The preset of a job of `total` tasks. Throws INVALID_INPUT with the path of a range past the job's
 * tasks or a job in `succeededIn` that does not exist; a rerun's job must exist (the caller checked).
 * Built here, in memory, then written whole: 10,000,000 tasks are 1.25 MB of bitmap.
 */
export async function presetOf(
  redis: Redis,
  keys: Keys,
  total: number,
  p: { skip?: SkipSpec; rerun?: RerunOf },
): Promise<TaskPreset | undefined> {
  if (!p.skip && !p.rerun) return undefined;
  const bytes = bytesFor(total);
  const bits = Buffer.alloc(bytes);
  const issues: ErrorIssue[] = [];
  p.skip?.ranges?.forEach(([from, to], i) => {
    if (to > total)
      issues.push({
        path: ['skip', 'ranges', i, 1],
        message: `the job has ${total} tasks (indices 0 to ${total - 1}); a range ends at ${total} at most`,
      });
    else setRange(bits, from, to);
  });
  const sources = p.skip?.succeededIn ?? [];
  const exists = sources.length ? await Promise.all(sources.map((id) => redis.exists(keys.job(id)))) : [];
  exists.forEach(
    (n, i) => n === 0 && issues.push({ path: ['skip', 'succeededIn', i], message: `no job with id '${sources[i]}'` }),
  );
  if (issues.length) throw new KumoError('INVALID_INPUT', issues.map((x) => x.message).join('; '), { issues });
  for (const id of sources) {
    // Succeeded there: final and not failed (the failed bitmap is a subset of the done one).
    const { done, failed } = await bitmapsOf(redis, keys, id, bytes);
    for (let b = 0; b < bytes; b++) bits[b]! |= done[b]! ^ failed[b]!;
  }
  if (p.rerun) {
    const { done, failed } = await bitmapsOf(redis, keys, p.rerun.jobId, bytes);
    // Preset what is not chosen: all but the failed tasks; or what succeeded (or was preset there).
    for (let b = 0; b < bytes; b++) bits[b] = p.rerun.tasks === 'failed' ? ~failed[b]! & 0xff : done[b]! ^ failed[b]!;
  }
  // No bit past the job's last task (the last byte's spare bits, or a longer job's bitmap).
  if (total % 8 !== 0) bits[bytes - 1]! &= (0xff << (8 - (total % 8))) & 0xff;
  return { count: popcount(bits), firstFree: nthClear(bits, total, 0), bits };
}

/**
 * A new job's preset and the job hash fields it sets. Preset tasks count as succeeded in the hash (so
 * every count there adds up as before, and the job ends when the rest are final); `skipped` says how many
 * of them there are, `excluded` how many a rerun left out (not its tasks at all): progress tells them apart
 * (job-record.ts). NOTHING_TO_RERUN, or INVALID_INPUT for a skip, when nothing would be left to run.
 */
export async function presetForJob(
  redis: Redis,
  keys: Keys,
  spec: JobSpec,
  total: number,
  rerun?: RerunOf,
): Promise<{
  preset?: TaskPreset;
  fields: Partial<Record<'fed' | 'succeeded' | 'skipped' | 'excluded' | 'rerunOf' | 'canaryEnd', string | number>>;
}> {
  const preset = await presetOf(redis, keys, total, {
    ...(spec.skip ? { skip: spec.skip } : {}),
    ...(rerun ? { rerun } : {}),
  });
  if (!preset) return { fields: {} };
  if (preset.count >= total) {
    if (rerun) throw new KumoError('NOTHING_TO_RERUN', `job ${rerun.jobId} has no ${rerun.tasks} tasks to rerun`);
    throw new KumoError('INVALID_INPUT', 'skip covers every task: nothing would run', {
      issues: [{ path: ['skip'], message: `covers all ${total} tasks` }],
    });
  }
  const fields = {
    fed: preset.firstFree,
    succeeded: preset.count,
    skipped: preset.count,
    ...(rerun ? { excluded: preset.count, rerunOf: rerun.jobId } : {}),
    // A canary is the first N tasks that run: with tasks skipped among them, its feed ends further on.
    ...(spec.canary ? { canaryEnd: Math.min(total, nthClear(preset.bits, total, spec.canary.tasks - 1) + 1) } : {}),
  };
  return { preset, fields };
}

/** Writes a preset as a job's done bitmap, before the job's hash exists (as its listing is). */
export async function writePreset(redis: Redis, keys: Keys, jobId: string, preset: TaskPreset): Promise<void> {
  if (preset.count > 0) await redis.set(keys.jobDone(jobId), preset.bits);
}
