import { h, replace, setText, type Child } from '../dom';
import { fmtInt, progressParts } from '../format';
import type { Progress } from '../types';

export interface ProgressView {
  el: HTMLElement;
  update(p: Progress, terminal: boolean): void;
}

/**
 * A stacked bar (succeeded, failed, running over the total) with the summary line under it and the
 * counts behind it. `data-*` attributes carry the raw numbers so tests and scripts need not parse
 * locale-formatted text.
 */
export function progressBar(opts: { large?: boolean } = {}): ProgressView {
  const ok = h('span', { class: 'seg seg-ok' });
  const bad = h('span', { class: 'seg seg-failed' });
  const run = h('span', { class: 'seg seg-running' });
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 }, ok, bad, run);
  const line = h('div', { class: 'progress-line' });
  const succeeded = h('span', { class: 'count count-succeeded' });
  const running = h('span', { class: 'count count-running' });
  const failed = h('span', { class: 'count count-failed' });
  const counts = h('div', { class: 'progress-counts' }, succeeded, ' ok · ', running, ' running · ', failed, ' failed');
  const el = h('div', { class: opts.large ? 'progress progress-large' : 'progress' }, bar, line, counts);
  const width = (n: number, total: number): string => `${total > 0 ? (n / total) * 100 : 0}%`;
  return {
    el,
    update(p, terminal) {
      ok.style.width = width(p.succeeded, p.total);
      bad.style.width = width(p.failed, p.total);
      run.style.width = width(p.running, p.total);
      bar.setAttribute('aria-valuenow', String(p.percent));
      // Each part stays whole ("ETA Mon 03:45"); a narrow screen wraps between parts, never inside one.
      const parts = progressParts(p, terminal);
      // The dot stays at the end of a line, not the start of the next.
      if (line.textContent !== parts.join(' · '))
        replace(
          line,
          ...parts.flatMap((t, i): Child[] => [
            i ? ' ' : null,
            h('span', { class: 'nowrap' }, i < parts.length - 1 ? `${t} ·` : t),
          ]),
        );
      setText(succeeded, fmtInt(p.succeeded));
      setText(running, fmtInt(p.running));
      setText(failed, fmtInt(p.failed));
      failed.classList.toggle('nonzero', p.failed > 0);
      el.dataset.succeeded = String(p.succeeded);
      el.dataset.total = String(p.total);
    },
  };
}
