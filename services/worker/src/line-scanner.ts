import { StringDecoder } from 'node:string_decoder';

/**
 * The longest stdout line read as a line (without its line break), in bytes: 64 KiB. The task contract's
 * lines are far shorter (a checkpoint's JSON is refused past 4 KiB; a result is a summary of counts, names
 * and scores), so a longer line is never one of them. Past the bound a line is not held: a task that prints
 * gigabytes without a newline costs the worker this much, not the line (docs/task-contract.md).
 */
export const LINE_MAX_BYTES = 64 * 1024;

/** What a scanner hands on. */
export interface ScannedLines {
  /** A whole line of at most the bound, without its line break. */
  line(text: string): void;
  /**
   * A line past the bound, in pieces as they arrive, none held: `first` on the piece that starts with
   * its head (the bound and a little more), `last` on the one that ends it.
   */
  overlong(text: string, first: boolean, last: boolean): void;
}

/**
 * Splits a stream's bytes into lines as readline does (`\n`, `\r\n` or a lone `\r` ends one; the last
 * line is handed on at the end even without one), holding at most `maxBytes` of a line in memory.
 */
export class LineScanner {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Inside a line past the bound: its pieces go on as they come. */
  private long = false;
  /** Decodes an overlong line's pieces, a character split between two of them included. */
  private readonly decoder = new StringDecoder('utf8');
  /** The last chunk ended with `\r`: a `\n` starting the next one belongs to that line break. */
  private afterCR = false;

  constructor(
    private readonly out: ScannedLines,
    private readonly maxBytes = LINE_MAX_BYTES,
  ) {}

  /** Bytes of the current line held (never more than the bound). */
  get heldLineBytes(): number {
    return this.heldBytes;
  }

  push(chunk: Buffer): void {
    let start = this.afterCR && chunk[0] === 0x0a ? 1 : 0;
    this.afterCR = false;
    let lf = chunk.indexOf(0x0a, start);
    let cr = chunk.indexOf(0x0d, start);
    while (lf !== -1 || cr !== -1) {
      const at = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      this.endLine(chunk.subarray(start, at));
      start = at + 1;
      if (at === cr) {
        if (at + 1 === chunk.length) this.afterCR = true;
        else if (chunk[at + 1] === 0x0a) start++;
      }
      if (lf !== -1 && lf < start) lf = chunk.indexOf(0x0a, start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf(0x0d, start);
    }
    if (start < chunk.length) this.add(chunk.subarray(start));
  }

  /** The stream ended: a last line without a line break is still a line. */
  end(): void {
    if (this.long || this.heldBytes > 0) this.endLine(Buffer.alloc(0));
  }

  private add(piece: Buffer): void {
    if (this.long) return this.out.overlong(this.decoder.write(piece), false, false);
    if (this.heldBytes + piece.length <= this.maxBytes) {
      // A copy: a piece is a view into the stream's chunk, which would otherwise stay alive whole.
      this.held.push(Buffer.from(piece));
      this.heldBytes += piece.length;
      return;
    }
    this.long = true;
    this.out.overlong(this.decoder.write(this.release(piece)), true, false);
  }

  private endLine(piece: Buffer): void {
    if (this.long) {
      this.long = false;
      return this.out.overlong(this.decoder.write(piece) + this.decoder.end(), false, true);
    }
    const line = this.release(piece);
    if (line.length > this.maxBytes) this.out.overlong(line.toString(), true, true);
    else this.out.line(line.toString());
  }

  /** What is held with `piece` after it, as one buffer; nothing is held after. */
  private release(piece: Buffer): Buffer {
    const all = this.held.length === 0 ? piece : Buffer.concat([...this.held, piece]);
    this.held = [];
    this.heldBytes = 0;
    return all;
  }
}
