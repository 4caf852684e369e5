import { KumoError } from '../errors';

/** GCS's limit on an object name, in bytes; the local store keeps the same so keys move freely between them. */
const KEY_MAX_BYTES = 1024;

/**
 * Keys are relative slash-separated paths. Refused, as INVALID_INPUT: empty, absolute (`/x`, `C:\x`),
 * `..` or `.` segments, empty segments (`a//b`), backslashes, control characters. Keys often carry job
 * and task ids that came from users; a key must never reach outside its store.
 */
export function checkArtifactKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw invalid(key, 'empty');
  checkPath(key, false);
  return key;
}

/** A list() prefix: like a key, but may be empty (everything) and may end with '/'. */
export function checkArtifactPrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw invalid(prefix, 'not a string');
  if (prefix === '') return prefix;
  checkPath(prefix, true);
  return prefix;
}

function checkPath(value: string, isPrefix: boolean): void {
  if (Buffer.byteLength(value) > KEY_MAX_BYTES) throw invalid(value, `longer than ${KEY_MAX_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) throw invalid(value, 'control character or backslash');
  if (value.startsWith('/') || /^[A-Za-z]:/.test(value)) throw invalid(value, 'absolute path');
  const segments = value.split('/');
  // A prefix may end with '/' ("jobs/1/"), which leaves one empty last segment.
  if (isPrefix && segments[segments.length - 1] === '') segments.pop();
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw invalid(value, `bad path segment '${s}'`);
  }
}

function invalid(key: unknown, why: string): KumoError {
  return new KumoError('INVALID_INPUT', `invalid artifact key: ${why}`, {
    issues: [{ path: ['key'], message: why }],
    details: { key: typeof key === 'string' ? key.slice(0, 200) : String(key) },
  });
}
