import type { Redis } from 'ioredis';

const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

/**
 * One scheduler leads (feeds and scales) through a lease in Redis; the others wait and take over within
 * `ttlMs` of the leader's death. Renew and release are compare-and-act scripts: a leader whose lease
 * expired can never extend or drop the new leader's.
 */
export class LeaderLease {
  private held = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  get isLeader(): boolean {
    return this.held;
  }

  /** Acquire or renew; returns whether this process leads now. */
  async tick(): Promise<boolean> {
    if (this.held) {
      this.held = (await this.redis.eval(RENEW, 1, this.key, this.holder, this.ttlMs)) === 1;
      if (this.held) return true;
    }
    this.held = (await this.redis.set(this.key, this.holder, 'PX', this.ttlMs, 'NX')) === 'OK';
    return this.held;
  }

  async release(): Promise<void> {
    if (this.held) await this.redis.eval(RELEASE, 1, this.key, this.holder);
    this.held = false;
  }
}
