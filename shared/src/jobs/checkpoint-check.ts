import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobSpec } from '../catalog/index';

/**
 * What a worker reports as a checkpoint is task output: any submitter's code prints it. Before it
 * becomes the job's record (what the next attempt resumes from, what evaluation jobs read), it is held
 * to the job's own spec: a training job's step, from 0 to `target.steps`, and a `uri` under the job's
 * checkpoint location.
 */

/** Why a reported checkpoint was not recorded (stable, for logs and tests). */
export type CheckpointRefusal =
  'NOT_TRAINING' | 'TOO_LARGE' | 'STEP_INVALID' | 'STEP_PAST_TARGET' | 'URI_INVALID' | 'URI_OUTSIDE_LOCATION';

export type CheckpointVerdict = { ok: true; step: number; uri: string } | { ok: false; reason: CheckpointRefusal };

const MAX_URI_LENGTH = 1024;
/** A checkpoint is a few fields (step, tokens, uri) kept in the job's record: not a place for a task's data. */
const MAX_CHECKPOINT_BYTES = 4096;

/**
 * Where a worker writes a training job's checkpoints when its spec names no `checkpoint.uri`: a folder
 * of the job under the worker's own artifacts folder. The control plane does not know each worker's
 * artifacts folder (contributors choose theirs), so the check below holds a uri to the tail of it.
 */
export function workerCheckpointDir(artifactsDir: string, jobId: string): string {
  return join(artifactsDir, ...workerCheckpointTail(jobId));
}

function workerCheckpointTail(jobId: string): string[] {
  return ['jobs', jobId, 'checkpoints'];
}

/** A uri cut into what is compared: its scheme (`file` for local paths), its bucket or host, its path's segments. */
interface Location {
  scheme: string;
  authority: string;
  absolute: boolean;
  segments: string[];
}

/**
 * Parses and normalizes: `.` and empty segments go, `..` takes the one before it away (one that would
 * climb above the root makes the uri invalid), and percent escapes are read first, so `%2e%2e` is `..`
 * too: some tools read a `gs://` name literally and others normalize it, and the check must hold for both.
 */
function parse(uri: string): Location | undefined {
  // Control characters are what this refuses: the pattern names them on purpose.
  // eslint-disable-next-line no-control-regex
  if (uri.length === 0 || uri.length > MAX_URI_LENGTH || /[\u0000-\u001f\u007f]/.test(uri)) return undefined;
  let scheme = 'file';
  let authority = '';
  let path = uri;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(.*)$/.exec(uri);
  if (m) {
    scheme = m[1]!.toLowerCase();
    if (scheme === 'file') {
      try {
        path = fileURLToPath(uri);
      } catch {
        return undefined;
      }
    } else {
      authority = m[2]!.toLowerCase();
      path = m[3]!;
      if (authority === '') return undefined;
    }
  } else if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(uri) && !uri.startsWith('/')) {
    // `gs:bucket/x` and the like: a scheme without `//` is no path and no uri we read.
    return undefined;
  }
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    let s: string;
    try {
      s = scheme === 'file' ? raw : decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segments.length === 0) return undefined;
      segments.pop();
      continue;
    }
    if (s.includes('/')) return undefined;
    segments.push(s);
  }
  return { scheme, authority, absolute: scheme !== 'file' || path.startsWith('/'), segments };
}

function startsWith(segments: string[], prefix: string[], at = 0): boolean {
  if (segments.length < at + prefix.length) return false;
  return prefix.every((p, n) => segments[at + n] === p);
}

/** Whether `uri` is the location or lies under it (same scheme and bucket, its segments first). */
function under(uri: Location, location: Location): boolean {
  return (
    uri.scheme === location.scheme &&
    uri.authority === location.authority &&
    uri.absolute === location.absolute &&
    startsWith(uri.segments, location.segments)
  );
}

/** Whether a local path lies in some worker's checkpoint folder of this job (`<artifacts>/jobs/<id>/checkpoints`). */
function underWorkerDefault(uri: Location, jobId: string): boolean {
  if (uri.scheme !== 'file' || !uri.absolute) return false;
  const tail = workerCheckpointTail(jobId);
  for (let at = 0; at + tail.length <= uri.segments.length; at++) if (startsWith(uri.segments, tail, at)) return true;
  return false;
}

/** The checkpoint a task reported, held to its job's spec. */
export function checkCheckpoint(
  spec: JobSpec,
  jobId: string,
  data: Record<string, unknown> | undefined,
): CheckpointVerdict {
  if (spec.kind !== 'training') return { ok: false, reason: 'NOT_TRAINING' };
  if (Buffer.byteLength(JSON.stringify(data ?? {})) > MAX_CHECKPOINT_BYTES) return { ok: false, reason: 'TOO_LARGE' };
  const step = data?.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) return { ok: false, reason: 'STEP_INVALID' };
  if (step > spec.target.steps) return { ok: false, reason: 'STEP_PAST_TARGET' };
  const uri = data?.uri;
  const at = typeof uri === 'string' ? parse(uri) : undefined;
  if (typeof uri !== 'string' || !at) return { ok: false, reason: 'URI_INVALID' };
  const location = spec.checkpoint.uri === undefined ? undefined : parse(spec.checkpoint.uri);
  const inside =
    spec.checkpoint.uri === undefined ? underWorkerDefault(at, jobId) : location !== undefined && under(at, location);
  return inside ? { ok: true, step, uri } : { ok: false, reason: 'URI_OUTSIDE_LOCATION' };
}
