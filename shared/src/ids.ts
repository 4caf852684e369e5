import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

let lastTime = 0;
let seq = 0;

/**
 * Time-sortable ids (Crockford base32: time, then a counter, then random), so listing newest-first is a
 * lex order. The counter keeps ids made by one process in the same millisecond in creation order.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  if (now <= lastTime) {
    now = lastTime;
    seq++;
  } else {
    lastTime = now;
    seq = 0;
  }
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let counter = '';
  let c = seq;
  for (let i = 0; i < 3; i++) {
    counter = ALPHABET[c % 32] + counter;
    c = Math.floor(c / 32);
  }
  const rnd = randomBytes(5);
  let tail = '';
  for (const b of rnd) tail += ALPHABET[b % 32];
  return `${prefix}_${time}${counter}${tail}`;
}

export const newJobId = (now?: number): string => newId('job', now);
export const newTokenId = (): string => newId('tok');
export const newMessageId = (): string => randomUUID();

const ID_PATTERN = /^[a-z]{2,8}_[0-9a-z]{18}$/;
export function looksLikeId(value: string): boolean {
  return ID_PATTERN.test(value);
}
