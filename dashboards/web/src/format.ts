/**
 * Numbers in the users' own terms: "30,000 / 90,000 batches · 33 % · 412/min · ETA Tue 14:00".
 * The locale is the browser's; tests pin it to en-US through the browser context.
 */
import type { Progress } from './types';

export const fmtInt = (n: number): string => Math.round(n).toLocaleString();

/** Rates under 10 keep one decimal (a training job may do 0.4 tasks/min); above, whole numbers. */
export function fmtRate(perMinute: number): string {
  return perMinute < 10 ? perMinute.toLocaleString(undefined, { maximumFractionDigits: 1 }) : fmtInt(perMinute);
}

export function fmtPercent(p: number): string {
  return `${p.toLocaleString(undefined, { maximumFractionDigits: p < 10 ? 1 : 0 })} %`;
}

/** "Tue 14:00" within the coming week; a date beyond it, since a weekday alone would mislead. */
export function fmtEta(iso: string | null, now = Date.now()): string | null {
  if (!iso) return null;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return null;
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
  if (at.getTime() - now > 6 * 86_400_000)
    return `${at.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
  return `${at.toLocaleDateString(undefined, { weekday: 'short' })} ${time}`;
}

/** "$1,830" from $100 up, cents below: a local job's $0.42 should not read as $0. */
export function fmtUsd(usd: number): string {
  return usd.toLocaleString('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: usd >= 100 ? 0 : 2 });
}

/** "3 h 12 min", "45 s": for durations and ages. */
export function fmtDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function fmtAge(epochMs: number, now = Date.now()): string {
  return fmtDuration((now - epochMs) / 1000);
}

export function fmtTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', hour12: false });
}

/** "Nov 30, 03:42" (the year only when it is not this one): for lists, where space is short. */
export function fmtShortTime(iso: string | undefined, now = new Date()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const date = d.toLocaleDateString(undefined, {
    month: 'short',
    day: 'numeric',
    ...(d.getFullYear() !== now.getFullYear() ? { year: 'numeric' } : {}),
  });
  return `${date}, ${d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })}`;
}

/** The one-line summary, parts joined with middle dots; parts without a value are left out. */
export function progressParts(p: Progress, terminal: boolean): string[] {
  const skipped = p.skipped ?? 0;
  // "30,000 / 90,000 batches (30,000 skipped)" from the start: skipped tasks are done.
  const parts = [
    `${fmtInt(p.succeeded + p.failed + skipped)} / ${fmtInt(p.total)} ${p.unit}${skipped ? ` (${fmtInt(skipped)} skipped)` : ''}`,
    fmtPercent(p.percent),
  ];
  if (p.ratePerMinute > 0) parts.push(`${fmtRate(p.ratePerMinute)}/min`);
  const eta = terminal ? null : fmtEta(p.estimatedCompletionAt);
  if (eta) parts.push(`ETA ${eta}`);
  if (p.costUsd) parts.push(`${fmtUsd(p.costUsd)} so far`);
  return parts;
}

export function progressLine(p: Progress, terminal: boolean): string {
  return progressParts(p, terminal).join(' · ');
}
