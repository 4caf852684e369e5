import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LINE_MAX_BYTES, LineScanner } from './line-scanner';

/** What a scanner hands on, as a list: lines as they are, an overlong line as `LONG(<its text>)`. */
function scan(chunks: Buffer[], maxBytes = LINE_MAX_BYTES): { out: string[]; maxHeld: number } {
  const out: string[] = [];
  let long = '';
  const s = new LineScanner(
    {
      line: (text) => out.push(text),
      overlong: (text, first, last) => {
        if (first) long = '';
        long += text;
        if (last) out.push(`LONG(${long})`);
      },
    },
    maxBytes,
  );
  let maxHeld = 0;
  for (const c of chunks) {
    s.push(c);
    maxHeld = Math.max(maxHeld, s.heldLineBytes);
  }
  s.end();
  return { out, maxHeld };
}

async function readlineLines(text: string): Promise<string[]> {
  const input = new PassThrough();
  const lines: string[] = [];
  const rl = createInterface({ input });
  rl.on('line', (l) => lines.push(l));
  const closed = new Promise((r) => rl.once('close', r));
  input.end(text);
  await closed;
  return lines;
}

describe('LineScanner', () => {
  it('splits lines as readline does, however the bytes are cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'é', '\n', '\r', '\r\n', '::kumo::result {}', '語'), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (parts, cuts) => {
          const bytes = Buffer.from(parts.join(''));
          const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...at].map((from, i) => bytes.subarray(from, [...at, bytes.length][i]));
          expect(scan(chunks).out).toEqual(await readlineLines(bytes.toString()));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds at most the bound of a line with no end: 80 MiB without a newline, then a result line still read', () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pieces: string[] = [];
    let overlongBytes = 0;
    const lines: string[] = [];
    const s = new LineScanner({
      line: (l) => lines.push(l),
      overlong: (text, first, last) => {
        overlongBytes += text.length;
        if (first || last) pieces.push(`${first ? 'first' : ''}${last ? 'last' : ''}`);
      },
    });
    let maxHeld = 0;
    const total = 80 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += chunk.length) {
      s.push(chunk);
      maxHeld = Math.max(maxHeld, s.heldLineBytes);
    }
    s.push(Buffer.from('\n::kumo::result {"after": true}\n'));
    s.end();
    expect(maxHeld).toBeLessThanOrEqual(LINE_MAX_BYTES);
    // It did hold up to the bound before giving up on the line (the check above is not vacuous).
    expect(maxHeld).toBeGreaterThan(LINE_MAX_BYTES - chunk.length);
    expect(s.heldLineBytes).toBe(0);
    expect(overlongBytes).toBe(total);
    expect(pieces).toEqual(['first', 'last']);
    expect(lines).toEqual(['::kumo::result {"after": true}']);
  });

  it('hands a line just at the bound on as a line, one byte more as overlong, in one chunk or many', () => {
    const at = 'r'.repeat(100);
    const over = 'o'.repeat(101);
    for (const size of [1, 7, 1000]) {
      const bytes = Buffer.from(`${at}\n${over}\r\nend`);
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const { out, maxHeld } = scan(chunks, 100);
      expect(out).toEqual([at, `LONG(${over})`, 'end']);
      expect(maxHeld).toBeLessThanOrEqual(100);
    }
  });

  it('keeps a character split between two pieces of an overlong line whole', () => {
    const text = '語'.repeat(50);
    const bytes = Buffer.from(`${text}\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 4) chunks.push(bytes.subarray(i, i + 4));
    expect(scan(chunks, 16).out).toEqual([`LONG(${text})`]);
  });

  it('an overlong last line with no line break still ends at the end of the stream', () => {
    expect(scan([Buffer.from('x'.repeat(30))], 10).out).toEqual([`LONG(${'x'.repeat(30)})`]);
  });
});
