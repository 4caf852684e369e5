import { isIP } from 'node:net';
import type { FastifyReply } from 'fastify';
import { KumoError } from '@kumo/shared';

const WINDOW_MS = 60_000;
/** How long a token that resolved stays known: it may still be looked up from an address that must wait. */
const VOUCHED_MS = 10 * 60_000;
const MAX_VOUCHED = 10_000;

/**
 * Counts requests with wrong tokens per client address, and makes an address that sent too many in a
 * minute wait out the rest of that minute: no token it sends is looked up in the meantime, so a guesser
 * costs neither Redis lookups nor log lines, and learns nothing. Other addresses are untouched. In
 * memory, per API process, like the per-token rate limit.
 *
 * Tokens that resolved in the last 10 minutes (kept as hashes) are still looked up from an address that
 * must wait: behind a proxy or NAT many people share one address, and one stale script among them must
 * not lock the others out. A guess is never among them (tokens are 192 random bits).
 *
 * IPv6 addresses count per /64: one host is handed a whole /64 and could otherwise change address at
 * each try.
 */
export class AuthFailureLimiter {
  private readonly byAddress = new Map<string, { count: number; resetAt: number }>();
  /** sha256 (hex) of a token that resolved -> when it last did. */
  private readonly vouched = new Map<string, number>();

  constructor(
    private readonly opts: {
      /** Wrong tokens an address may send per minute; 0 turns this off. */
      perMinute: number;
      now?: () => number;
      /** Addresses remembered at once; the oldest are forgotten past it. Default 50,000. */
      maxAddresses?: number;
    },
  ) {}

  /** Whole seconds `ip` must wait before its next request is looked at; 0 when it need not. */
  retryAfterS(ip: string): number {
    if (this.opts.perMinute <= 0) return 0;
    const entry = this.byAddress.get(addressKey(ip));
    const now = this.now();
    if (!entry || entry.resetAt <= now || entry.count < this.opts.perMinute) return 0;
    return Math.max(1, Math.ceil((entry.resetAt - now) / 1000));
  }

  /** One more wrong token from `ip`. */
  record(ip: string): void {
    if (this.opts.perMinute <= 0) return;
    const key = addressKey(ip);
    const now = this.now();
    const entry = this.byAddress.get(key);
    if (entry && entry.resetAt > now) {
      entry.count++;
      return;
    }
    this.byAddress.delete(key);
    // Entries are re-inserted when their window starts, so the first in the Map ends soonest.
    if (this.byAddress.size >= (this.opts.maxAddresses ?? 50_000))
      this.byAddress.delete(this.byAddress.keys().next().value!);
    this.byAddress.set(key, { count: 1, resetAt: now + WINDOW_MS });
  }

  /** A token (its sha256, hex) that just resolved. */
  vouch(tokenHash: string): void {
    if (this.opts.perMinute <= 0) return;
    this.vouched.delete(tokenHash);
    if (this.vouched.size >= MAX_VOUCHED) this.vouched.delete(this.vouched.keys().next().value!);
    this.vouched.set(tokenHash, this.now());
  }

  /** Whole seconds before `ip` may have this token looked up: 0 when its address need not wait, or the token is known. */
  waitFor(ip: string, tokenHash: string): number {
    const wait = this.retryAfterS(ip);
    if (wait === 0) return 0;
    const at = this.vouched.get(tokenHash);
    return at !== undefined && this.now() - at < VOUCHED_MS ? 0 : wait;
  }

  /**
   * Refuses the request (429 RATE_LIMITED, with Retry-After) when its address must wait and its token
   * is not known. Called before the token is looked up.
   */
  assertMayTry(ip: string, tokenHash: string, reply: FastifyReply): void {
    const wait = this.waitFor(ip, tokenHash);
    if (wait === 0) return;
    void reply.header('retry-after', String(wait));
    throw new KumoError(
      'RATE_LIMITED',
      `too many requests with wrong tokens from this address (at most ${this.opts.perMinute} a minute); retry in ${wait} s`,
    );
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

/** The unit an address is counted in: an IPv4 address (mapped ones too), or an IPv6 /64. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
