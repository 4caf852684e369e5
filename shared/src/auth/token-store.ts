import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { wallClock, type Clock } from '../clock';
import { KumoError } from '../errors';
import { newTokenId } from '../ids';
import { Keys } from '../store/keys';

export type Role = 'admin' | 'submitter' | 'viewer' | 'worker';
export const ROLES: readonly Role[] = ['admin', 'submitter', 'viewer', 'worker'];

export interface Principal {
  tokenId: string;
  role: Role;
  name: string;
  /** Worker tokens only: the one pool they may lease from. */
  pool?: string;
}

interface StoredToken extends Principal {
  createdAt: number;
  expiresAt?: number;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateSecret(): string {
  return `kumo_${randomBytes(24).toString('base64url')}`;
}

/** API tokens, stored hashed (the secret is shown once, at creation), revocable, with optional expiry. */
export class TokenStore {
  private readonly keys: Keys;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; clock?: Clock } = {},
  ) {
    this.keys = new Keys(opts.prefix);
    this.clock = opts.clock ?? wallClock;
  }

  async create(input: { role: Role; name: string; pool?: string; ttlSeconds?: number }): Promise<{ id: string; token: string; principal: Principal; expiresAt?: number }> {
    const id = newTokenId();
    const token = generateSecret();
    const hash = hashToken(token);
    const now = this.clock.now();
    const stored: StoredToken = {
      tokenId: id,
      role: input.role,
      name: input.name,
      ...(input.pool ? { pool: input.pool } : {}),
      createdAt: now,
      ...(input.ttlSeconds ? { expiresAt: now + input.ttlSeconds * 1000 } : {}),
    };
    const m = this.redis.multi().set(this.keys.token(hash), JSON.stringify(stored)).hset(this.keys.tokensIndex(), id, hash);
    if (input.ttlSeconds) m.pexpire(this.keys.token(hash), input.ttlSeconds * 1000);
    await m.exec();
    const { createdAt: _c, expiresAt, ...principal } = stored;
    return { id, token, principal, ...(expiresAt ? { expiresAt } : {}) };
  }

  async resolve(token: string): Promise<Principal | undefined> {
    const raw = await this.redis.get(this.keys.token(hashToken(token)));
    if (!raw) return undefined;
    const t = JSON.parse(raw) as StoredToken;
    if (t.expiresAt !== undefined && t.expiresAt <= this.clock.now()) return undefined;
    return { tokenId: t.tokenId, role: t.role, name: t.name, ...(t.pool ? { pool: t.pool } : {}) };
  }

  async revoke(id: string): Promise<void> {
    const hash = await this.redis.hget(this.keys.tokensIndex(), id);
    if (!hash) throw new KumoError('TOKEN_NOT_FOUND', `no token with id '${id}'`);
    await this.redis.multi().del(this.keys.token(hash)).hdel(this.keys.tokensIndex(), id).exec();
  }
}
