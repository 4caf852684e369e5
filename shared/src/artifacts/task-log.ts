import type { ArtifactStore } from './artifact-store';

/**
 * A task attempt's log in the artifact store: its whole output (stdout and stderr, in the order the
 * worker read them) as segments, each an object named by the byte offset it starts at, so that a
 * reader can follow the log while the task still writes it and the oldest segments can be dropped to
 * keep the log under its cap (the tail kept):
 *
 *   jobs/<job>/tasks/<index>/attempt-<n>/<offset, 15 digits>.log      a segment
 *   jobs/<job>/tasks/<index>/attempt-<n>/<offset, 15 digits>.end.log  the last one: the attempt ended
 *
 * A task that prints nothing has no segment (no write at all). Lexical order of the names is offset
 * order. The first kept segment's offset is how many bytes were cut from the head.
 */
export const TASK_LOG_MAX_BYTES = 16 * 1024 * 1024;

/** Where all of a task's attempts' logs are: `jobs/<job>/tasks/<index>/`. */
export function taskLogPrefix(jobId: string, index: number): string {
  return `jobs/${jobId}/tasks/${index}/`;
}

/** Where all of a job's task logs are: deleting it deletes them. */
export function jobLogsPrefix(jobId: string): string {
  return `jobs/${jobId}/tasks/`;
}

/** One attempt's folder of segments: `jobs/<job>/tasks/<index>/attempt-<n>`. */
export function attemptLogPrefix(jobId: string, index: number, attempt: number): string {
  return `${taskLogPrefix(jobId, index)}attempt-${attempt}`;
}

export function logSegmentKey(jobId: string, index: number, attempt: number, offset: number, last: boolean): string {
  return `${attemptLogPrefix(jobId, index, attempt)}/${String(offset).padStart(15, '0')}${last ? '.end' : ''}.log`;
}

export interface LogSegment {
  key: string;
  offset: number;
  /** The attempt's last segment: nothing follows it. */
  last: boolean;
}

const SEGMENT_NAME = /\/(\d{15})(\.end)?\.log$/;
const ATTEMPT_DIR = /^attempt-(\d+)\//;

/** An attempt's segments, in offset order. */
export async function logSegments(
  store: ArtifactStore,
  jobId: string,
  index: number,
  attempt: number,
): Promise<LogSegment[]> {
  const keys = await store.list(`${attemptLogPrefix(jobId, index, attempt)}/`);
  const out: LogSegment[] = [];
  for (const key of keys) {
    const m = SEGMENT_NAME.exec(key);
    if (m) out.push({ key, offset: Number(m[1]), last: m[2] !== undefined });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/** The attempts of a task that have a log (printed something), in ascending order. */
export async function loggedAttempts(store: ArtifactStore, jobId: string, index: number): Promise<number[]> {
  const prefix = taskLogPrefix(jobId, index);
  const attempts = new Set<number>();
  for (const key of await store.list(prefix)) {
    const m = ATTEMPT_DIR.exec(key.slice(prefix.length));
    if (m) attempts.add(Number(m[1]));
  }
  return [...attempts].sort((a, b) => a - b);
}

/** What a reader shows where the head of a log was dropped to keep it under its cap (the tail kept). */
export function cutMarker(bytesCut: number): string {
  return `[kumo: ${bytesCut} bytes of this log were cut here; a task's log keeps only its tail]\n`;
}

/**
 * Reads a log's segments from byte `reached` on, one segment in memory at a time. A segment that starts
 * past what the reader reached (the ones before it were dropped for the cap) is preceded by the marker.
 */
export async function* readSegments(
  store: ArtifactStore,
  segments: LogSegment[],
  cursor: { reached: number },
): AsyncGenerator<Buffer> {
  for (const s of segments) {
    if (s.offset < cursor.reached) continue;
    const body = await store.get(s.key);
    // Dropped between the listing and now (the cap moved on): the next one carries the marker.
    if (!body) continue;
    if (s.offset > cursor.reached) yield Buffer.from(cutMarker(s.offset - cursor.reached));
    cursor.reached = s.offset + body.length;
    if (body.length > 0) yield body;
  }
}

/**
 * Keeps an attempt's log under `maxBytes` from the store's side, where the writer is not trusted (an
 * HTTPS worker on someone's own machine): drops the oldest segments while the rest, up to `end` (where
 * the segment just written ends), is over the cap. Returns how many were dropped.
 */
export async function dropPastCap(
  store: ArtifactStore,
  jobId: string,
  index: number,
  attempt: number,
  end: number,
  maxBytes: number,
): Promise<number> {
  const segments = await logSegments(store, jobId, index, attempt);
  let dropped = 0;
  while (segments.length > 1 && end - segments[0]!.offset > maxBytes) {
    await store.delete(segments.shift()!.key);
    dropped++;
  }
  return dropped;
}

/** Deletes every task log of a job (when the job is deleted). */
export async function deleteJobLogs(store: ArtifactStore, jobId: string): Promise<number> {
  const keys = await store.list(jobLogsPrefix(jobId));
  for (const key of keys) await store.delete(key);
  return keys.length;
}
