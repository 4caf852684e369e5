import type { Readable } from 'node:stream';
import { LINE_MAX_BYTES, LineScanner } from './line-scanner';
import { LogTail } from './log-tail';

/**
 * Lines a command task may print on stdout to talk to kumo (documented in docs/task-contract.md):
 *   ::kumo::result {"docsIn": 1200, "docsOut": 310}    merged into the task's result (its ledger entry)
 *   ::kumo::progress {"step": 1200, "tokens": 4.9e9}   progress inside a long task (kept as the latest)
 *   ::kumo::checkpoint {"step": 1200, "uri": "..."}     a checkpoint was written (a retry resumes from it)
 * A line longer than LINE_MAX_BYTES is none of them. Everything it prints is its log (onOutput: kept
 * whole, see TaskLogWriter); the tail of the rest is kept for failures.
 */
export const RESULT_PREFIX = '::kumo::result ';
export const PROGRESS_PREFIX = '::kumo::progress ';
export const CHECKPOINT_PREFIX = '::kumo::checkpoint ';
const CONTRACT_PREFIX = '::kumo::';

export interface TaskOutputHandlers {
  onProgress?: (data: Record<string, unknown>) => void;
  onCheckpoint?: (data: Record<string, unknown>) => void;
  /** Every byte, stdout and stderr, in the order read; a promise holds both streams until it settles. */
  onOutput?: (chunk: Buffer) => void | Promise<void>;
}

/**
 * Reads a task's stdout and stderr: every chunk to `onOutput`, stdout's contract lines to their handlers,
 * the rest to the failure tail. Memory stays bounded whatever the task prints: a line is held up to
 * LINE_MAX_BYTES, the tail up to its size, and while `onOutput`'s consumer is behind (its promise not
 * settled) neither stream is read, so the task blocks on its pipe as it would on a slow terminal.
 */
export class TaskOutput {
  readonly tail = new LogTail();
  result: Record<string, unknown> | undefined;
  private readonly lines: LineScanner;
  private held = false;
  /** An overlong line that starts like a contract line: the tail says why it was not read as one. */
  private longContract = false;

  constructor(
    private readonly streams: { stdout: Readable; stderr: Readable },
    private readonly h: TaskOutputHandlers,
  ) {
    this.lines = new LineScanner({
      line: (line) => this.line(line),
      overlong: (text, first, last) => {
        if (first) this.longContract = text.startsWith(CONTRACT_PREFIX);
        this.tail.push(text);
        if (last)
          this.tail.push(
            this.longContract ? `  <- longer than ${LINE_MAX_BYTES} bytes, not read as a kumo line\n` : '\n',
          );
      },
    });
    // Read when this reader asks ('readable'), not as the streams flow ('data'): a paused stream is
    // resumed by Node itself when the task exits, whereas one read this way is read only here.
    streams.stdout.on('readable', () => this.readStdout());
    streams.stdout.once('end', () => this.lines.end());
    streams.stderr.on('readable', () => this.readStderr());
  }

  private readStdout(): void {
    let chunk: Buffer | null;
    while (!this.held && (chunk = this.streams.stdout.read() as Buffer | null) !== null) {
      this.forward(chunk);
      this.lines.push(chunk);
    }
  }

  private readStderr(): void {
    let chunk: Buffer | null;
    while (!this.held && (chunk = this.streams.stderr.read() as Buffer | null) !== null) {
      this.forward(chunk);
      this.tail.push(chunk.toString());
    }
  }

  /** Hands a chunk on; while its consumer is behind, neither stream is read (their buffers fill, then the pipes). */
  private forward(chunk: Buffer): void {
    const wait = this.h.onOutput?.(chunk);
    if (!wait) return;
    this.held = true;
    // The consumer's own failures are its to report; here a settled promise only means "go on".
    void wait.then(
      () => this.resume(),
      () => this.resume(),
    );
  }

  private resume(): void {
    this.held = false;
    // What arrived meanwhile waits in the streams' buffers: no 'readable' comes for it until it is read.
    this.readStdout();
    this.readStderr();
  }

  private line(line: string): void {
    if (line.startsWith(RESULT_PREFIX)) {
      const r = this.jsonAfter(line, RESULT_PREFIX);
      if (r) this.result = { ...this.result, ...r };
    } else if (line.startsWith(PROGRESS_PREFIX)) {
      const p = this.jsonAfter(line, PROGRESS_PREFIX);
      if (p) this.h.onProgress?.(p);
    } else if (line.startsWith(CHECKPOINT_PREFIX)) {
      const c = this.jsonAfter(line, CHECKPOINT_PREFIX);
      if (c) {
        this.h.onCheckpoint?.(c);
        this.tail.push(`${line}\n`);
      }
    } else this.tail.push(`${line}\n`);
  }

  private jsonAfter(line: string, prefix: string): Record<string, unknown> | undefined {
    try {
      const parsed: unknown = JSON.parse(line.slice(prefix.length));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // falls through
    }
    this.tail.push(`${line}  <- not a JSON object, ignored\n`);
    return undefined;
  }
}
