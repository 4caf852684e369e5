import { ApiError, authHeaders } from '../api';
import { h, replace, setText } from '../dom';
import { handleError } from '../view';

/** What the page keeps of a log it shows: the tail (a log may be 16 MiB; a browser tab need not hold it). */
const SHOWN_MAX_CHARS = 2 * 1024 * 1024;

/**
 * A task's log on the job page: pick a task (or press "log" on its row) and its latest attempt's log
 * is shown, followed live while the task runs (GET .../log?follow=true streams until the task ends).
 * One stream at a time: a new choice, or leaving the page (`stop`), ends the one before.
 */
export function taskLogView(jobId: string): { el: HTMLElement; show(index: number): void; stop(): void } {
  const input = h('input', {
    type: 'number',
    min: 0,
    step: 1,
    value: 0,
    class: 'task-log-index',
    'aria-label': 'task index',
  });
  const button = h('button', { type: 'button', class: 'btn', 'data-action': 'show-log' }, 'Show log');
  const status = h('span', { class: 'task-log-status muted', role: 'status' });
  const pre = h('pre', { class: 'log-tail task-log' });
  const box = h('div', {});
  const el = h(
    'section',
    { class: 'card', id: 'task-log' },
    h('h2', {}, 'Task log'),
    h('div', { class: 'task-log-bar' }, input, button, status),
    box,
  );
  let current: AbortController | undefined;

  const stop = (): void => {
    current?.abort();
    current = undefined;
  };

  const show = (index: number): void => {
    stop();
    const ac = (current = new AbortController());
    input.value = String(index);
    pre.textContent = '';
    replace(box, pre);
    setText(status, `task ${index}: reading…`);
    void (async () => {
      const res = await fetch(`/v1/jobs/${encodeURIComponent(jobId)}/tasks/${index}/log?follow=true`, {
        headers: authHeaders(),
        signal: ac.signal,
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => undefined)) as
          { error?: { code?: string; message?: string } } | undefined;
        if (body?.error?.code === 'TASK_NOT_RUN') {
          setText(status, `task ${index} has not run`);
          replace(box);
          return;
        }
        throw new ApiError(
          res.status,
          body?.error?.code ?? `HTTP_${res.status}`,
          body?.error?.message ?? res.statusText,
        );
      }
      const attempt = res.headers.get('x-kumo-attempt') ?? '?';
      setText(status, `task ${index}, attempt ${attempt}: following…`);
      const decoder = new TextDecoder();
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const text = (pre.textContent ?? '') + decoder.decode(value, { stream: true });
        pre.textContent = text.length > SHOWN_MAX_CHARS ? text.slice(text.length - SHOWN_MAX_CHARS) : text;
        pre.scrollTop = pre.scrollHeight;
      }
      setText(status, `task ${index}, attempt ${attempt}: ended${pre.textContent ? '' : ' (it printed nothing)'}`);
    })().catch((err: unknown) => {
      if (ac.signal.aborted) return;
      setText(status, '');
      handleError(err, box);
    });
  };

  button.addEventListener('click', () => {
    const index = Number(input.value);
    if (Number.isInteger(index) && index >= 0) show(index);
  });
  return { el, show, stop };
}
