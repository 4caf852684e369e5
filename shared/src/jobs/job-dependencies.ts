import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';
import type { JobHash, JobHashField } from './job-record';

/**
 * What the feeder records on a job about the jobs it depends on: the one it is waiting for now (shown
 * to users as `waitingOn`), and, once they have all succeeded, that they have (`depsMet`), so later
 * feed ticks skip the check.
 */
export class JobDependencies {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async waitingOn(jobId: string, dependency: string): Promise<void> {
    await this.redis.hset(this.keys.job(jobId), { waitingOn: dependency } satisfies JobHash);
  }

  async met(jobId: string): Promise<void> {
    const waitingOn: JobHashField = 'waitingOn';
    await this.redis
      .multi()
      .hset(this.keys.job(jobId), { depsMet: '1' } satisfies JobHash)
      .hdel(this.keys.job(jobId), waitingOn)
      .exec();
  }
}
