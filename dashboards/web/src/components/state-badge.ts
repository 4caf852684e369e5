import { h } from '../dom';
import type { JobState } from '../types';

/** The state as a coloured pill; the colour comes from CSS by `data-state`, the word is always shown. */
export function stateBadge(state: JobState): HTMLSpanElement {
  return h('span', { class: 'badge', 'data-state': state }, stateLabel(state));
}

/** `budget_exhausted` -> "budget exhausted". */
export function stateLabel(state: string): string {
  return state.replace(/_/g, ' ');
}

export function updateBadge(el: HTMLElement, state: JobState): void {
  if (el.dataset.state === state) return;
  el.dataset.state = state;
  el.textContent = stateLabel(state);
}
