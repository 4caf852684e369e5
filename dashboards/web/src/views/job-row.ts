import { progressBar } from '../components/progress-bar';
import { stateBadge, updateBadge } from '../components/state-badge';
import { h, setText } from '../dom';
import { fmtShortTime } from '../format';
import { href } from '../router';
import { isTerminal, type Job, type JobState, type Progress } from '../types';

/** One job in the list. Built once and updated in place, so live numbers never make the list flicker. */
export class JobRow {
  readonly el: HTMLElement;
  private job: Job;
  private readonly badge: HTMLElement;
  private readonly bar = progressBar();
  private readonly name: HTMLAnchorElement;

  constructor(job: Job) {
    this.job = job;
    this.badge = stateBadge(job.state);
    this.name = h('a', { class: 'job-name', href: href.job(job.id) }, job.name);
    this.el = h(
      'div',
      { class: 'job-row', role: 'row', 'data-id': job.id },
      h(
        'div',
        { class: 'cell job-main', role: 'cell' },
        this.name,
        h(
          'div',
          { class: 'job-sub' },
          h('span', { class: 'mono' }, job.id),
          ' ',
          h('span', { class: 'nowrap' }, fmtShortTime(job.createdAt)),
        ),
      ),
      h('div', { class: 'cell job-state', role: 'cell' }, this.badge),
      h('div', { class: 'cell job-kind', role: 'cell' }, h('span', { class: 'label' }, 'kind '), job.kind),
      h('div', { class: 'cell job-pool', role: 'cell' }, h('span', { class: 'label' }, 'pool '), job.pool),
      h('div', { class: 'cell job-user', role: 'cell' }, h('span', { class: 'label' }, 'user '), job.user),
      h('div', { class: 'cell job-progress', role: 'cell' }, this.bar.el),
    );
    this.update(job);
  }

  get id(): string {
    return this.job.id;
  }

  get state(): JobState {
    return this.job.state;
  }

  update(job: Job): void {
    // A poll answer can be a moment older than the last SSE event. Finished counts only grow, so
    // keep whichever is further along rather than let the numbers step back.
    const cur = this.job.progress;
    if (job.progress.succeeded + job.progress.failed < cur.succeeded + cur.failed) job = { ...job, progress: cur };
    this.job = job;
    setText(this.name, job.name);
    this.setState(job.state);
    this.bar.update(job.progress, isTerminal(job.state));
  }

  setProgress(p: Progress): void {
    this.job = { ...this.job, progress: p };
    this.bar.update(p, isTerminal(this.job.state));
  }

  setState(state: JobState): void {
    this.job = { ...this.job, state };
    updateBadge(this.badge, state);
    this.el.dataset.state = state;
    this.bar.update(this.job.progress, isTerminal(state));
  }
}
