import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { isTerminal, KumoError, type JobState, type Keys, type Principal } from '@kumo/shared';
import type { ApiLimits } from '../limits';

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-user quotas on what submissions leave in Redis (plugins/quotas.ts). */
    userQuota: UserQuota;
  }
}

/** A reservation nobody settled (the API died between reserving and creating) is dropped after this. */
const RESERVATION_TTL_MS = 10 * 60_000;

/**
 * Checks and takes room atomically. KEYS[1]: the user's live-jobs sorted set (member: a job id or a
 * reservation, score: the listing bytes it holds in Redis). ARGV: maxJobs, maxBytes (0: no cap), n,
 * then n pairs member, bytes. A member already there counts once; its bytes are replaced.
 * Returns {0} when taken, {1, live jobs} over the job cap, {2, bytes held} over the byte cap.
 */
const RESERVE = `
local maxJobs, maxBytes, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local fresh, delta = 0, 0
for i = 1, n do
  local old = redis.call('ZSCORE', KEYS[1], ARGV[2 + 2 * i])
  local bytes = tonumber(ARGV[3 + 2 * i])
  if old then delta = delta + bytes - tonumber(old) else fresh = fresh + 1; delta = delta + bytes end
end
local count = redis.call('ZCARD', KEYS[1])
if maxJobs > 0 and fresh > 0 and count + fresh > maxJobs then return {1, count} end
if maxBytes > 0 and delta > 0 then
  local held = 0
  local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 2, #all, 2 do held = held + tonumber(all[i]) end
  if held + delta > maxBytes then return {2, held} end
end
for i = 1, n do redis.call('ZADD', KEYS[1], ARGV[3 + 2 * i], ARGV[2 + 2 * i]) end
return {0}
`;

/** Room taken for jobs about to be made: grow it once their listings are read, then settle it. */
export interface Reservation {
  /** Sets each job's listing bytes; QUOTA_EXCEEDED (nothing changed) when they do not fit. */
  take(bytes: number[]): Promise<void>;
  /** Replaces the reservations with the jobs made (undefined: not made); room for those not made is given back. */
  settle(jobIds: (string | undefined)[]): Promise<void>;
}

/**
 * Quotas per user, so that one submitter cannot fill a `noeviction` Redis and stop every write: live
 * (not yet ended) jobs, and the bytes of the listings they hold (a listing job's lines stay in Redis
 * until it ends). Admins are exempt: they are the operators who would lift the quota anyway.
 * Each user's live jobs sit in a sorted set; jobs that have ended are dropped from it lazily, only when
 * a submission would not fit otherwise, so a submission costs O(1) until the user is near a limit.
 */
export class UserQuota {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly limits: Pick<ApiLimits, 'liveJobsPerUser' | 'listingBytesPerUser'>,
  ) {}

  /** Room for `count` new jobs of `user`, with no listing bytes yet; undefined for exempt callers. */
  async reserve(principal: Principal, user: string, count: number): Promise<Reservation | undefined> {
    if (principal.role === 'admin' || (this.limits.liveJobsPerUser <= 0 && this.limits.listingBytesPerUser <= 0)) return undefined;
    const key = `${this.keys.prefix}:quota:${user}`;
    const stamp = `r:${Date.now()}:${randomBytes(6).toString('hex')}`;
    const members = Array.from({ length: count }, (_, i) => `${stamp}:${i}`);
    let bytes = members.map(() => 0);
    await this.take(key, user, members, bytes);
    return {
      take: async (b) => {
        await this.take(key, user, members, b);
        bytes = b;
      },
      settle: async (jobIds) => {
        const tx = this.redis.multi().zrem(key, ...members);
        jobIds.forEach((id, i) => {
          // With no cap on live jobs, only jobs holding listing bytes need counting.
          if (id && (this.limits.liveJobsPerUser > 0 || (bytes[i] ?? 0) > 0)) tx.zadd(key, bytes[i] ?? 0, id);
        });
        await tx.exec();
      },
    };
  }

  private async take(key: string, user: string, members: string[], bytes: number[]): Promise<void> {
    const run = async (): Promise<number[]> => (await this.redis.eval(RESERVE, 1, key, this.limits.liveJobsPerUser, this.limits.listingBytesPerUser, members.length, ...members.flatMap((m, i) => [m, bytes[i] ?? 0]))) as number[];
    let res = await run();
    if (res[0] !== 0) {
      await this.dropEnded(key);
      res = await run();
    }
    if (res[0] === 1) {
      throw new KumoError('QUOTA_EXCEEDED', `user '${user}' has ${res[1]} live jobs, and at most ${this.limits.liveJobsPerUser} may be queued or running at once; submit again when some have ended`, { retryable: true });
    }
    if (res[0] === 2) {
      const want = bytes.reduce((a, b) => a + b, 0);
      // A listing bigger than the whole quota will never fit: retrying cannot help.
      throw new KumoError('QUOTA_EXCEEDED', `user '${user}' holds ${mib(res[1]!)} of listings in live jobs; ${mib(want)} more would pass the ${mib(this.limits.listingBytesPerUser)} quota`, { retryable: want <= this.limits.listingBytesPerUser });
    }
  }

  /** Drops the jobs that have ended (or are gone) and reservations nobody settled. */
  private async dropEnded(key: string): Promise<void> {
    const members = await this.redis.zrange(key, 0, -1);
    const jobs = members.filter((m) => !m.startsWith('r:'));
    const pipe = this.redis.pipeline();
    for (const id of jobs) pipe.hget(this.keys.job(id), 'state');
    const states = jobs.length ? ((await pipe.exec()) ?? []) : [];
    const now = Date.now();
    const gone = [
      ...jobs.filter((_, i) => {
        const s = states[i]?.[1] as JobState | null | undefined;
        return !states[i]?.[0] && (s === null || s === undefined || isTerminal(s));
      }),
      ...members.filter((m) => m.startsWith('r:') && now - Number(m.split(':')[1]) > RESERVATION_TTL_MS),
    ];
    if (gone.length) await this.redis.zrem(key, ...gone);
  }
}

/** What a listing's lines hold in Redis, near enough: their bytes and a separator each. */
export function listingBytes(lines: readonly string[] | undefined): number {
  let n = 0;
  for (const line of lines ?? []) n += Buffer.byteLength(line) + 1;
  return n;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Decorates the app with its quotas; app.kumo (Redis, keys) must be there already. */
export function installQuotas(app: FastifyInstance, limits: Pick<ApiLimits, 'liveJobsPerUser' | 'listingBytesPerUser'>): void {
  app.decorate('userQuota', new UserQuota(app.kumo.redis, app.kumo.keys, limits));
}
