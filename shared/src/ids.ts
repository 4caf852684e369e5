import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Time-sortable ids (Crockford base32 time prefix + random), so listing newest-first is a lex order. */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(8);
  let tail = '';
  for (const b of rnd) tail += ALPHABET[b % 32];
  return `${prefix}_${time}${tail}`;
}

export const newJobId = (now?: number): string => newId('job', now);
export const newTokenId = (): string => newId('tok');
export const newMessageId = (): string => randomUUID();

const ID_PATTERN = /^[a-z]{2,8}_[0-9a-z]{18}$/;
export function looksLikeId(value: string): boolean {
  return ID_PATTERN.test(value);
}
