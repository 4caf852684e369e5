import cliProgress from 'cli-progress';
import type { Progress } from '../api/types';
import { progressFields } from './progress';

/**
 * The live bar of `kumo watch`, on stderr so stdout keeps only the final line for scripts. Off a
 * terminal (CI logs, pipes) it prints a plain line every few seconds instead of redrawing one.
 * Payload names avoid cli-progress's own tokens (`eta`, `total`, `percentage`), which would win.
 */
export class ProgressBar {
  private readonly bar: cliProgress.SingleBar;
  private started = false;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar({
      format: '{bar} {counts} {unit} | {pct}% | {rate}/min | ETA {etaAt}',
      stream,
      barsize: 30,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      hideCursor: false,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    });
  }

  update(p: Progress): void {
    const f = progressFields(p, new Date());
    const payload = { counts: f.counts, unit: f.unit, pct: f.percent, rate: f.rate, etaAt: f.eta };
    const done = p.succeeded + p.failed + p.skipped;
    if (!this.started) {
      this.bar.start(p.total, done, payload);
      this.started = true;
    } else {
      this.bar.setTotal(p.total);
      this.bar.update(done, payload);
    }
  }

  /** Draws the last state once more and releases the line; safe to call twice. */
  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}
