import { api, ApiError } from '../api';
import { h, setText } from '../dom';
import { fmtInt } from '../format';
import { go, href } from '../router';
import { isTerminal, type Contributor, type Job } from '../types';
import { handleError } from '../view';
import { table } from './tables';

/**
 * An ended job's rerun buttons: its failed tasks, or every task that did not succeed, as a new job
 * (POST /v1/jobs/:id/rerun), whose page opens. Shown only once the job has ended, as the API allows.
 */
export function rerunActions(): { el: HTMLElement; update(job: Job): void } {
  const message = h('span', { class: 'action-message', role: 'status' });
  const failed = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      'data-action': 'rerun-failed',
      title: 'A new job of the tasks that failed, each with its own index and inputs',
    },
    'Rerun failed',
  );
  const unfinished = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      'data-action': 'rerun-unfinished',
      title: 'A new job of every task that did not succeed',
    },
    'Rerun unfinished',
  );
  const el = h('div', { class: 'actions rerun-actions', hidden: true }, message, failed, unfinished);
  let job: Job | undefined;
  const on = (button: HTMLButtonElement, tasks: 'failed' | 'unfinished'): void => {
    button.addEventListener('click', () => {
      if (!job) return;
      button.disabled = true;
      setText(message, 'Starting a rerun…');
      api
        .rerun(job.id, tasks)
        .then((rerun) => go(href.job(rerun.id)))
        .catch((err: unknown) => {
          if (err instanceof ApiError && err.unauthenticated) return handleError(err, message);
          setText(
            message,
            err instanceof ApiError ? `Not rerun: ${err.message}` : 'Not rerun: the API could not be reached',
          );
        })
        .finally(() => {
          button.disabled = false;
        });
    });
  };
  on(failed, 'failed');
  on(unfinished, 'unfinished');
  return {
    el,
    update(j) {
      job = j;
      el.hidden = !isTerminal(j.state);
      failed.hidden = j.progress.failed === 0;
      unfinished.hidden = j.progress.succeeded + (j.progress.skipped ?? 0) === j.progress.total;
    },
  };
}

/** Who did the job's tasks: a row per worker and owner, read again as the counts move. */
export function contributorsSection(jobId: string): { el: HTMLElement; read(): Promise<void> } {
  const box = h('div', {});
  const el = h('section', { class: 'card contributors' }, h('h2', {}, 'Contributors'), box);
  const row = (c: Contributor): HTMLTableRowElement =>
    h(
      'tr',
      { class: 'contributor-row', 'data-worker': c.worker },
      h('td', {}, c.worker),
      h('td', {}, c.owner),
      h('td', { class: 'num' }, fmtInt(c.succeeded)),
      h('td', { class: 'num' }, fmtInt(c.failed)),
      h('td', { class: 'num' }, fmtInt(c.taskSeconds)),
    );
  return {
    el,
    async read() {
      try {
        const rows = await api.contributors(jobId);
        box.replaceChildren(
          rows.length
            ? table('contributors-table', ['worker', 'owner', 'succeeded', 'failed', 'task seconds'], rows.map(row))
            : h('p', { class: 'empty' }, 'No task has finished yet.'),
        );
      } catch (err) {
        handleError(err, box);
      }
    },
  };
}
