import { randomBytes } from 'node:crypto';

/** A key prefix no other test shares, so tests on one Redis never see each other's keys. */
export function testPrefix(name = 't'): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}
