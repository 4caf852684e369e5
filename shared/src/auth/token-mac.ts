import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { KumoError } from '../errors';

/**
 * Token records live in Redis, which workers (and so anyone who steals a worker's REDIS_URL) can write.
 * Each record therefore carries an HMAC-SHA256 over everything in it that grants power, keyed by a
 * secret only the API holds: a Redis writer can delete records, but cannot make or change one.
 */

/** The least key material accepted: a key shorter than SHA-256's output would be the weak link. */
export const MIN_SIGNING_KEY_BYTES = 32;

/** Bumped when the MAC's input changes; records of another version fail closed (re-mint them). */
const MAC_VERSION = 'kumo-token-record/v1';
const DERIVATION_LABEL = 'kumo token records v1';
const MAC_PATTERN = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url, unpadded

/** The environment that sets the key, for the processes that run the API (alone, or under `npm start`). Workers never get it. */
export const tokenSigningEnvShape = {
  KUMO_TOKEN_SIGNING_KEY: z
    .string()
    .refine(
      (v) => Buffer.byteLength(v, 'utf8') >= MIN_SIGNING_KEY_BYTES,
      `KUMO_TOKEN_SIGNING_KEY must be at least ${MIN_SIGNING_KEY_BYTES} bytes`,
    )
    .optional(),
};

/**
 * The key records are signed with: `KUMO_TOKEN_SIGNING_KEY` when set, else derived from the admin
 * token, so a deployment needs no new secret. The cost of deriving: a new admin token means a new key,
 * and every minted token is refused until re-minted.
 */
export function tokenSigningKey(opts: { explicitKey?: string | undefined; adminToken: string }): Buffer {
  if (opts.explicitKey !== undefined) {
    if (Buffer.byteLength(opts.explicitKey, 'utf8') < MIN_SIGNING_KEY_BYTES) {
      throw new KumoError('CONFIG_INVALID', `the token signing key must be at least ${MIN_SIGNING_KEY_BYTES} bytes`);
    }
    return Buffer.from(opts.explicitKey, 'utf8');
  }
  if (opts.adminToken.length === 0)
    throw new KumoError('CONFIG_INVALID', 'no admin token to derive the token signing key from');
  return createHmac('sha256', opts.adminToken).update(DERIVATION_LABEL).digest();
}

/** What a record grants, and where: each field is bound, so changing or moving any one breaks the MAC. */
export interface SignedFields {
  /** The key prefix: a record copied into another deployment on the same Redis fails. */
  prefix: string;
  /** The secret's hash, i.e. the key the record sits under: a record copied under another secret fails. */
  hash: string;
  tokenId: string;
  role: string;
  name: string;
  pool?: string | undefined;
  createdAt: number;
  expiresAt?: number | undefined;
}

function macOf(key: Buffer, f: SignedFields): Buffer {
  // A JSON array: fixed order, and no field's value can run into the next one's.
  const input = JSON.stringify([
    MAC_VERSION,
    f.prefix,
    f.hash,
    f.tokenId,
    f.role,
    f.name,
    f.pool ?? null,
    f.createdAt,
    f.expiresAt ?? null,
  ]);
  return createHmac('sha256', key).update(input).digest();
}

export function signRecord(key: Buffer, fields: SignedFields): string {
  return macOf(key, fields).toString('base64url');
}

/** Constant-time: how much of a MAC matched must not show in how long the refusal took. */
export function verifyRecord(key: Buffer, fields: SignedFields, mac: unknown): boolean {
  if (typeof mac !== 'string' || !MAC_PATTERN.test(mac)) return false;
  return timingSafeEqual(Buffer.from(mac, 'base64url'), macOf(key, fields));
}
