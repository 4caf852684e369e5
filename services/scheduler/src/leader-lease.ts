import type { Redis } from 'ioredis';
import { defineScript, reply } from '@kumo/shared';

const renewLease = defineScript(new URL('./lua/renewLease-1.lua', import.meta.url), ['lease'], reply.done);
const releaseLease = defineScript(new URL('./lua/releaseLease-1.lua', import.meta.url), ['lease'], reply.done);

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
      this.held = await renewLease.run(this.redis, { lease: this.key }, [this.holder, this.ttlMs]);
      if (this.held) return true;
    }
    this.held = (await this.redis.set(this.key, this.holder, 'PX', this.ttlMs, 'NX')) === 'OK';
    return this.held;
  }

  async release(): Promise<void> {
    if (this.held) await releaseLease.run(this.redis, { lease: this.key }, [this.holder]);
    this.held = false;
  }
}
