/**
 * What one client may cost the API. Generous by default: they are there to stop a runaway script or a
 * leaked token from starving everyone else, not to shape normal use (the CLI's `watch`, the dashboard,
 * a scraper every 15 s all stay far below them).
 */
export interface ApiLimits {
  /** Requests per minute per token (per client address on the open routes). 0 turns rate limiting off. Default 3000 (50/s). */
  ratePerMinute: number;
  /** Requests a token may make at once before the rate applies. Default 200. */
  rateBurst: number;
  /**
   * Requests with a wrong token one client address (an IPv6 /64) may send per minute; past it, that
   * address gets 429 for the rest of the minute for any token not used successfully in the last 10
   * minutes (none is looked up). 0 turns it off. Default 200: a script with a stale token stops soon, a
   * person never meets it.
   */
  authFailuresPerMinute: number;
  /**
   * Jobs one user may have live (not yet ended) at once; one more is refused with 429 QUOTA_EXCEEDED.
   * Admins are exempt. 0 turns it off. Default 1000.
   */
  liveJobsPerUser: number;
  /**
   * Bytes of `source.listing` lines one user's live jobs may hold in Redis (where they stay until the
   * job ends); past it, 429 QUOTA_EXCEEDED. Admins are exempt. 0 turns it off. Default 256 MiB.
   */
  listingBytesPerUser: number;
  /** Event streams (`GET /v1/jobs/:id/events`) one token may hold open. Default 100. */
  ssePerToken: number;
  /** Event streams open on this API in all. Default 10,000. */
  sseTotal: number;
  /** Origins a browser may call the API from; empty (the default) sends no CORS headers at all. */
  corsOrigins: string[];
  /** The whole request (headers and body) must arrive within this. Default 30 s: a slow-drip client cannot hold a socket. */
  requestTimeoutMs: number;
  /** A socket silent this long is closed. Default 120 s. Event streams are exempt (their keepalive proves the peer). */
  connectionTimeoutMs: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  ratePerMinute: 3000,
  rateBurst: 200,
  authFailuresPerMinute: 200,
  liveJobsPerUser: 1000,
  listingBytesPerUser: 256 * 1024 * 1024,
  ssePerToken: 100,
  sseTotal: 10_000,
  corsOrigins: [],
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 120_000,
};

export function limitsOf(partial: Partial<ApiLimits> | undefined): ApiLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}
