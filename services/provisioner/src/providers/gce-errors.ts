import { KumoError, regionOf } from '@kumo/shared';
import { CallTimeoutError } from './call-timeout-error';

/**
 * Compute Engine failures -> KumoError codes. Every branch reads a code (HTTP status, `errors[].reason`,
 * an ErrorInfo reason, an operation error code, a socket error code), never message text.
 */

/** Operation error codes (and ErrorInfo reasons) that mean "this zone has no capacity now": try the next zone. */
export const CAPACITY_CODES: ReadonlySet<string> = new Set([
  'ZONE_RESOURCE_POOL_EXHAUSTED',
  'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
  'REGION_RESOURCE_POOL_EXHAUSTED',
  'RESOURCE_POOL_EXHAUSTED',
  'STOCKOUT',
  // The synchronous form (HTTP 503, documented for the bulk API; accepted here too).
  'insufficientCapacity',
]);

/** Codes that mean the project's quota is spent in the region: no zone of that region will do. */
export const QUOTA_CODES: ReadonlySet<string> = new Set(['QUOTA_EXCEEDED', 'quotaExceeded', 'RESOURCE_QUOTA_EXCEEDED']);

/** API rate limits: the request was refused before anything happened; safe to retry later. */
const RATE_LIMIT_CODES: ReadonlySet<string> = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'RATE_LIMIT_EXCEEDED',
]);

/** A create that collides with an instance of the same name: a retry of our own create (names are predictable). */
const ALREADY_EXISTS_CODES: ReadonlySet<string> = new Set([
  'RESOURCE_ALREADY_EXISTS',
  'ALREADY_EXISTS',
  'alreadyExists',
]);

/** Socket errors where the request never reached the server, so nothing can have been created. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** gRPC codes google-gax sets when it decodes an HTTP error itself. */
const GRPC = { NOT_FOUND: 5, ALREADY_EXISTS: 6, ABORTED: 10, UNAVAILABLE: 14 } as const;

/** What kumo could learn from a failed call, all of it codes. */
export interface CallFailure {
  /** The HTTP status, when the server answered. */
  httpStatus?: number;
  /** The gRPC code, when google-gax decoded the answer itself (it maps 500 and 502 alike to INTERNAL). */
  grpcCode?: number;
  /** `error.errors[].reason` and ErrorInfo reasons from the body. */
  reasons: string[];
  /** ErrorInfo metadata (quota_metric, quota_limit, region, ...). */
  errorInfo: Record<string, string>;
  /** The socket error code when no answer came. */
  networkCode?: string;
  timedOut: boolean;
}

export function describeCallFailure(err: unknown): CallFailure {
  const failure: CallFailure = { reasons: [], errorInfo: {}, timedOut: err instanceof CallTimeoutError };
  if (!isObject(err)) return failure;
  const response = isObject(err.response) ? err.response : undefined;
  const status =
    typeof err.status === 'number' ? err.status : typeof response?.status === 'number' ? response.status : undefined;
  if (status !== undefined && response) {
    failure.httpStatus = status;
    readErrorBody(parseBody(response.data), failure);
  } else if (typeof err.code === 'number' && err.code >= 0 && err.code <= 16) {
    failure.grpcCode = err.code;
    if (typeof err.reason === 'string') failure.reasons.push(err.reason);
    if (isObject(err.errorInfoMetadata)) Object.assign(failure.errorInfo, stringRecord(err.errorInfoMetadata));
  }
  failure.networkCode = socketCode(err);
  return failure;
}

export function isNotFound(f: CallFailure): boolean {
  return f.httpStatus === 404 || f.grpcCode === GRPC.NOT_FOUND;
}

export function isAlreadyExists(f: CallFailure): boolean {
  return (
    f.httpStatus === 409 ||
    f.grpcCode === GRPC.ALREADY_EXISTS ||
    f.grpcCode === GRPC.ABORTED ||
    f.reasons.some((r) => ALREADY_EXISTS_CODES.has(r))
  );
}

export interface FailureContext {
  name: string;
  zone: string;
}

/**
 * Maps a failed insert call (not its operation) to a KumoError. Callers handle "already exists" first.
 *
 * Retryable only where the create surely did not happen: HTTP 500 and 503 (the API refused it), rate
 * limits, and sockets that never connected. A 502, a 504, a timeout or a dropped connection leave the
 * outcome unknown: PROVIDER_UNAVAILABLE with retryable=false and details.outcome='unknown'. The caller
 * reconciles by name (list(), or the same create again: same name and requestId cannot make a second VM,
 * and a 409 on our own name is success). It must not move on to another zone, where the same name would
 * be a second VM.
 */
export function insertCallError(f: CallFailure, ctx: FailureContext, cause: unknown): KumoError {
  const base = { name: ctx.name, zone: ctx.zone, httpStatus: f.httpStatus, reasons: f.reasons };
  if (f.reasons.some((r) => CAPACITY_CODES.has(r))) {
    return new KumoError('ZONE_RESOURCE_POOL_EXHAUSTED', `no capacity in ${ctx.zone}`, { cause, details: base });
  }
  if (f.reasons.some((r) => QUOTA_CODES.has(r))) {
    return quotaError(
      ctx.zone,
      f.errorInfo.quota_metric,
      f.errorInfo.quota_limit,
      f.errorInfo.region ?? f.errorInfo.quota_location,
      cause,
    );
  }
  if (f.reasons.some((r) => RATE_LIMIT_CODES.has(r)) || f.httpStatus === 429) {
    return new KumoError('PROVIDER_UNAVAILABLE', 'Compute Engine rate limit', {
      cause,
      retryable: true,
      details: base,
    });
  }
  if (f.httpStatus === 500 || f.httpStatus === 503 || f.grpcCode === GRPC.UNAVAILABLE) {
    return new KumoError('PROVIDER_UNAVAILABLE', 'Compute Engine refused the insert; nothing was created', {
      cause,
      retryable: true,
      details: { ...base, outcome: 'not-created' },
    });
  }
  if (f.networkCode !== undefined && NOT_SENT_CODES.has(f.networkCode)) {
    return new KumoError('PROVIDER_UNAVAILABLE', 'Compute Engine unreachable; nothing was sent', {
      cause,
      retryable: true,
      details: { ...base, networkCode: f.networkCode, outcome: 'not-created' },
    });
  }
  if (f.httpStatus !== undefined && f.httpStatus >= 400 && f.httpStatus < 500) {
    return new KumoError('PROVIDER_REJECTED', 'Compute Engine rejected the insert', { cause, details: base });
  }
  return unknownOutcome(ctx, cause, {
    httpStatus: f.httpStatus,
    grpcCode: f.grpcCode,
    networkCode: f.networkCode,
    timedOut: f.timedOut,
  });
}

/** A create whose fate is not known; see insertCallError. */
export function unknownOutcome(ctx: FailureContext, cause: unknown, extra: Record<string, unknown> = {}): KumoError {
  return new KumoError(
    'PROVIDER_UNAVAILABLE',
    `outcome of creating ${ctx.name} in ${ctx.zone} is unknown; reconcile by name`,
    {
      cause,
      retryable: false,
      details: { name: ctx.name, zone: ctx.zone, outcome: 'unknown', ...extra },
    },
  );
}

/** The error part of a compute Operation, as the client decodes it. */
export interface OperationErrorItem {
  code?: string | null;
  errorDetails?: Array<{
    quotaInfo?: {
      metricName?: string | null;
      limitName?: string | null;
      limit?: number | null;
      dimensions?: Record<string, string> | null;
    } | null;
    errorInfo?: { reason?: string | null } | null;
  }> | null;
}

/**
 * Maps a DONE operation's errors. An operation that finished with an error created nothing, so anything
 * transient here is retryable. 'already-exists' means our own earlier create won: the caller fetches it.
 */
export function operationError(
  errors: OperationErrorItem[],
  httpErrorStatusCode: number | null | undefined,
  ctx: FailureContext,
): KumoError | 'already-exists' {
  const codes = errors
    .flatMap((e) => [e.code ?? '', ...(e.errorDetails ?? []).map((d) => d.errorInfo?.reason ?? '')])
    .filter((c) => c !== '');
  const details = { name: ctx.name, zone: ctx.zone, codes, httpStatus: httpErrorStatusCode ?? undefined };
  if (codes.some((c) => CAPACITY_CODES.has(c))) {
    return new KumoError('ZONE_RESOURCE_POOL_EXHAUSTED', `no capacity in ${ctx.zone}`, { details });
  }
  if (codes.some((c) => QUOTA_CODES.has(c))) {
    const info = errors.flatMap((e) => e.errorDetails ?? []).find((d) => d.quotaInfo)?.quotaInfo;
    return quotaError(
      ctx.zone,
      info?.metricName ?? undefined,
      info?.limitName ?? undefined,
      info?.dimensions?.region,
      undefined,
      info?.limit ?? undefined,
    );
  }
  if (codes.some((c) => ALREADY_EXISTS_CODES.has(c))) return 'already-exists';
  if (codes.some((c) => RATE_LIMIT_CODES.has(c)) || (httpErrorStatusCode ?? 0) >= 500) {
    return new KumoError(
      'PROVIDER_UNAVAILABLE',
      'the insert operation failed on the server side; nothing was created',
      {
        retryable: true,
        details: { ...details, outcome: 'not-created' },
      },
    );
  }
  return new KumoError('PROVIDER_REJECTED', `Compute Engine rejected ${ctx.name}`, { details });
}

function quotaError(
  zone: string,
  metric?: string,
  limitName?: string,
  region?: string,
  cause?: unknown,
  limit?: number,
): KumoError {
  const where = region ?? regionOf(zone);
  return new KumoError('QUOTA_EXCEEDED', `quota ${metric ?? 'unknown'} exhausted in ${where}`, {
    cause,
    details: { metric, limitName, limit, region: where, zone },
  });
}

function readErrorBody(body: unknown, into: CallFailure): void {
  if (!isObject(body)) return;
  const error = isObject(body.error) ? body.error : body;
  if (Array.isArray(error.errors)) {
    for (const e of error.errors) if (isObject(e) && typeof e.reason === 'string') into.reasons.push(e.reason);
  }
  if (Array.isArray(error.details)) {
    for (const d of error.details) {
      if (!isObject(d) || typeof d['@type'] !== 'string' || !d['@type'].endsWith('google.rpc.ErrorInfo')) continue;
      if (typeof d.reason === 'string') into.reasons.push(d.reason);
      if (isObject(d.metadata)) Object.assign(into.errorInfo, stringRecord(d.metadata));
    }
  }
}

function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    // An HTML page from a front end (a 502, say): the status alone has to do.
    return undefined;
  }
}

function socketCode(err: Record<string, unknown>): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && isObject(cur); depth++) {
    if (typeof cur.code === 'string' && /^E[A-Z]+$/.test(cur.code)) return cur.code;
    cur = cur.cause;
  }
  return undefined;
}

function stringRecord(obj: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) if (typeof v === 'string') out[k] = v;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
