import { KumoError, LIMITS } from '@kumo/shared';

// Control characters (C0, DEL, C1): never in a path, always a sign of a binary file or a wrong encoding.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The paths a listing names, in order: UTF-8 text, one a line, each trimmed; blank lines and `#`
 * comments dropped. `cap`: keep only the first `cap` (source.batches with a listing); what follows is
 * not even looked at. LISTING_INVALID, saying which line: not UTF-8, a control character (a NUL: a
 * binary file), a line over LIMITS.listingLineMax, more than LIMITS.batchesMax lines, or none at all.
 */
export function listingLines(uri: string, text: Buffer, cap?: number): string[] {
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    throw invalid(uri, 'it is not UTF-8 text');
  }
  const limit = cap ?? LIMITS.batchesMax;
  const out: string[] = [];
  let lineNo = 0;
  // By hand rather than split(): a 64 MiB listing capped to 1,000 lines is not cut into 500,000 strings.
  for (let start = 0; start <= decoded.length;) {
    let end = decoded.indexOf('\n', start);
    if (end === -1) end = decoded.length;
    const line = decoded.slice(start, end).trim();
    start = end + 1;
    lineNo++;
    if (line === '' || line.startsWith('#')) continue;
    if (out.length === limit) {
      if (cap !== undefined) break;
      throw invalid(uri, `it names more than ${LIMITS.batchesMax} files`);
    }
    if (CONTROL.test(line)) throw invalid(uri, `line ${lineNo} holds a control character (a binary file?)`);
    if (line.length > LIMITS.listingLineMax)
      throw invalid(uri, `line ${lineNo} is longer than ${LIMITS.listingLineMax} characters`);
    out.push(line);
  }
  if (out.length === 0) throw invalid(uri, 'it names no files (only blank lines and # comments, or nothing)');
  return out;
}

function invalid(uri: string, why: string): KumoError {
  return new KumoError('LISTING_INVALID', `source.listing '${uri}': ${why}`);
}
