import { api, ApiError } from '../api';
import { h, setText } from '../dom';
import { fmtInt } from '../format';
import { go, href } from '../router';
import { isTerminal, type Contributor, type Job } from '../types';
import { handleError } from '../view';
import { table } from './tables';

/**
 * An ended job's buttons: rerun its failed tasks, or every task that did not succeed, as a new job
 * (POST /v1/jobs/:id/rerun), whose page opens; or delete it and all kept of it (DELETE /v1/jobs/:id),
 * asked first, then back to the list. Shown only once the job has ended, as the API allows.
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
  const remove = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-danger',
      'data-action': 'delete',
      title: 'Delete this job: its record, results, contributors and task logs',
    },
    'Delete',
  );
  const el = h('div', { class: 'actions rerun-actions', hidden: true }, message, failed, unfinished, remove);
  let job: Job | undefined;
  /** What a refused or failed call says, in the message line (a lost sign-in goes to the login). */
  const refused = (what: string, err: unknown): void => {
    if (err instanceof ApiError && err.unauthenticated) return handleError(err, message);
    setText(message, err instanceof ApiError ? `${what}: ${err.message}` : `${what}: the API could not be reached`);
  };
  const on = (button: HTMLButtonElement, tasks: 'failed' | 'unfinished'): void => {
    button.addEventListener('click', () => {
      if (!job) return;
      button.disabled = true;
      setText(message, 'Starting a rerun…');
      api
        .rerun(job.id, tasks)
        .then((rerun) => go(href.job(rerun.id)))
        .catch((err: unknown) => refused('Not rerun', err))
        .finally(() => {
          button.disabled = false;
        });
    });
  };
  on(failed, 'failed');
  on(unfinished, 'unfinished');
  remove.addEventListener('click', () => {
    if (!job || !confirm(`Delete job ${job.name} (${job.id}) and everything kept of it, its task logs too?`)) return;
    remove.disabled = true;
    setText(message, 'Deleting…');
    api
      .deleteJob(job.id)
      .then(() => go(href.jobs()))
      .catch((err: unknown) => refused('Not deleted', err))
      .finally(() => {
        remove.disabled = false;
      });
  });
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
