import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { wallClock, type Clock } from '../clock';
import { KumoError } from '../errors';
import { newTokenId } from '../ids';
import type { Logger } from '../logger';
import { Keys } from '../store/keys';
import { signRecord, verifyRecord } from './token-mac';

export { MIN_SIGNING_KEY_BYTES, tokenSigningEnvShape, tokenSigningKey } from './token-mac';

export type Role = 'admin' | 'submitter' | 'viewer' | 'worker';
export const ROLES: readonly Role[] = ['admin', 'submitter', 'viewer', 'worker'];

export interface Principal {
  tokenId: string;
  role: Role;
  name: string;
  /** Worker tokens only: the one pool they may lease from. */
  pool?: string;
}

/**
 * A record as read back from Redis, which anyone with a worker's REDIS_URL can write: its shape is
 * checked before its MAC, and fields it does not name are dropped (they could grant nothing anyway).
 */
const storedTokenSchema = z.object({
  tokenId: z.string().min(1).max(64),
  role: z.enum(ROLES as unknown as ['admin', 'submitter', 'viewer', 'worker']),
  name: z.string(),
  pool: z.string().optional(),
  createdAt: z.number(),
  expiresAt: z.number().optional(),
  mac: z.string(),
});
type StoredToken = z.infer<typeof storedTokenSchema>;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateSecret(): string {
  return `kumo_${randomBytes(24).toString('base64url')}`;
}

export interface TokenStoreOptions {
  prefix?: string;
  clock?: Clock;
  /** The MAC key (tokenSigningKey()); only the API holds it, so only the API can mint. */
  signingKey: Buffer;
  /** Where refused records are reported (warn, with the record's token id; never the secret). */
  logger?: Logger;
}

/**
 * API tokens, stored hashed (the secret is shown once, at creation), revocable, with optional expiry.
 * Every record is signed (token-mac.ts); one whose MAC is missing or wrong is refused exactly as an
 * unknown token, which also refuses records written before records were signed: re-mint those.
 */
export class TokenStore {
  private readonly keys: Keys;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly signingKey: Buffer;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly redis: Redis,
    opts: TokenStoreOptions,
  ) {
    this.prefix = opts.prefix ?? 'kumo';
    this.keys = new Keys(this.prefix);
    this.clock = opts.clock ?? wallClock;
    this.signingKey = opts.signingKey;
    this.logger = opts.logger;
  }

  async create(input: {
    role: Role;
    name: string;
    pool?: string;
    ttlSeconds?: number;
  }): Promise<{ id: string; token: string; principal: Principal; expiresAt?: number }> {
    const id = newTokenId();
    const token = generateSecret();
    const hash = hashToken(token);
    const now = this.clock.now();
    const fields = {
      tokenId: id,
      role: input.role,
      name: input.name,
      ...(input.pool ? { pool: input.pool } : {}),
      createdAt: now,
      ...(input.ttlSeconds ? { expiresAt: now + input.ttlSeconds * 1000 } : {}),
    };
    const stored: StoredToken = {
      ...fields,
      mac: signRecord(this.signingKey, { prefix: this.prefix, hash, ...fields }),
    };
    const m = this.redis
      .multi()
      .set(this.keys.token(hash), JSON.stringify(stored))
      .hset(this.keys.tokensIndex(), id, hash);
    if (input.ttlSeconds) m.pexpire(this.keys.token(hash), input.ttlSeconds * 1000);
    await m.exec();
    const { createdAt: _c, expiresAt, ...principal } = fields;
    return { id, token, principal, ...(expiresAt ? { expiresAt } : {}) };
  }

  async resolve(token: string): Promise<Principal | undefined> {
    const hash = hashToken(token);
    const raw = await this.redis.get(this.keys.token(hash));
    if (!raw) return undefined;
    const t = this.verified(hash, raw);
    if (!t) return undefined;
    // Checked after the MAC: expiresAt is signed, so dropping it from a record breaks the MAC instead.
    if (t.expiresAt !== undefined && t.expiresAt <= this.clock.now()) return undefined;
    return { tokenId: t.tokenId, role: t.role, name: t.name, ...(t.pool ? { pool: t.pool } : {}) };
  }

  /**
   * Deletes the token's own record: the one signed for this id. The id → hash index is only a shortcut,
   * and a Redis writer can edit it (pointed at another record, a revoke would delete that one and leave
   * the stolen token working; removed, a revoke would answer 404), so an entry that does not lead to this
   * id's record sends the search through every record.
   */
  async revoke(id: string): Promise<void> {
    const hash = await this.redis.hget(this.keys.tokensIndex(), id);
    const raw = hash ? await this.redis.get(this.keys.token(hash)) : null;
    let hashes = hash && raw && this.verified(hash, raw, { quiet: true })?.tokenId === id ? [hash] : [];
    if (hashes.length === 0) {
      hashes = await this.scanFor(id);
      // A record that exists but is not this id's is the sign of an edited index (an expired one is just gone).
      if (raw || (!hash && hashes.length > 0))
        this.logger?.warn(
          { tokenId: id },
          'tokens index entry did not lead to the token; found its record by scanning',
        );
    }
    if (!hash && hashes.length === 0) throw new KumoError('TOKEN_NOT_FOUND', `no token with id '${id}'`);
    const m = this.redis.multi().hdel(this.keys.tokensIndex(), id);
    for (const h of hashes) m.del(this.keys.token(h));
    await m.exec();
  }

  /** Hashes of the records signed for `id`: at most one, since the MAC binds the hash. O(keys in Redis), for revocation only. */
  private async scanFor(id: string): Promise<string[]> {
    const base = this.keys.token('');
    const pattern = `${base.replace(/[*?[\]\\]/g, '\\$&')}*`;
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const raws = keys.length ? await this.redis.mget(...keys) : [];
      keys.forEach((k, i) => {
        const h = k.slice(base.length);
        const r = raws[i];
        if (r && this.verified(h, r, { quiet: true })?.tokenId === id) found.push(h);
      });
    } while (cursor !== '0');
    return found;
  }

  /** The record if it is well formed and its MAC holds for the secret's hash; else undefined, logged unless quiet. */
  private verified(hash: string, raw: string, opts: { quiet?: boolean } = {}): StoredToken | undefined {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const parsed = storedTokenSchema.safeParse(json);
    if (!parsed.success) {
      const claimed = typeof json === 'object' && json !== null ? (json as { tokenId?: unknown }).tokenId : undefined;
      if (!opts.quiet)
        this.refused(
          typeof claimed === 'string' ? claimed : undefined,
          json === undefined ? 'not JSON' : 'malformed or unsigned',
        );
      return undefined;
    }
    const t = parsed.data;
    if (!verifyRecord(this.signingKey, { prefix: this.prefix, hash, ...t }, t.mac)) {
      if (!opts.quiet) this.refused(t.tokenId, 'MAC does not match');
      return undefined;
    }
    return t;
  }

  private refused(tokenId: string | undefined, reason: string): void {
    // The id is whatever the record claims (bounded: it is attacker-written); the secret is never at hand here.
    this.logger?.warn(
      { tokenId: tokenId?.slice(0, 64), reason },
      'token record refused: not signed by this API (forged, edited, copied, or older than signing)',
    );
  }
}
