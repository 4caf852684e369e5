import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { defineScript, isTerminal, jobViews, KumoError, reply, type Keys, type Principal } from '@kumo/shared';
import type { ApiLimits } from '../limits';

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-user quotas on what submissions leave in Redis (plugins/quotas.ts). */
    userQuota: UserQuota;
  }
}

/** A reservation nobody settled (the API died between reserving and creating) is dropped after this. */
const RESERVATION_TTL_MS = 10 * 60_000;

/** Checks a user's quotas and takes room in them, in one step (its header says how). */
const reserveQuota = defineScript(
  new URL('./lua/reserveQuota-1.lua', import.meta.url),
  ['quota'],
  reply.array<[number, number?]>,
);

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
    if (principal.role === 'admin' || (this.limits.liveJobsPerUser <= 0 && this.limits.listingBytesPerUser <= 0))
      return undefined;
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
    const run = (): Promise<[number, number?]> =>
      reserveQuota.run(this.redis, { quota: key }, [
        this.limits.liveJobsPerUser,
        this.limits.listingBytesPerUser,
        members.length,
        ...members.flatMap((m, i) => [m, bytes[i] ?? 0]),
      ]);
    let res = await run();
    if (res[0] !== 0) {
      await this.dropEnded(key);
      res = await run();
    }
    if (res[0] === 1) {
      throw new KumoError(
        'QUOTA_EXCEEDED',
        `user '${user}' has ${res[1]} live jobs, and at most ${this.limits.liveJobsPerUser} may be queued or running at once; submit again when some have ended`,
        { retryable: true },
      );
    }
    if (res[0] === 2) {
      const want = bytes.reduce((a, b) => a + b, 0);
      // A listing bigger than the whole quota will never fit: retrying cannot help.
      throw new KumoError(
        'QUOTA_EXCEEDED',
        `user '${user}' holds ${mib(res[1]!)} of listings in live jobs; ${mib(want)} more would pass the ${mib(this.limits.listingBytesPerUser)} quota`,
        { retryable: want <= this.limits.listingBytesPerUser },
      );
    }
  }

  /** Drops the jobs that have ended (or are gone) and reservations nobody settled. */
  private async dropEnded(key: string): Promise<void> {
    const members = await this.redis.zrange(key, 0, -1);
    const jobs = members.filter((m) => !m.startsWith('r:'));
    const states = await jobViews.state.readMany(this.redis, this.keys, jobs);
    const now = Date.now();
    const gone = [
      ...jobs.filter((_, i) => {
        const s = states[i];
        return s === undefined || isTerminal(s);
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
export function installQuotas(
  app: FastifyInstance,
  limits: Pick<ApiLimits, 'liveJobsPerUser' | 'listingBytesPerUser'>,
): void {
  app.decorate('userQuota', new UserQuota(app.kumo.redis, app.kumo.keys, limits));
}
