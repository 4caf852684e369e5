const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** 30000 → "30,000". */
export function formatCount(n: number): string {
  return INT.format(n);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * When a job will be done, as a wall clock in local time: "14:00" today, "Tue 14:00" within a week,
 * "2024-04-12 14:00" beyond. "done" once nothing is left; "--:--" while there is no rate to go by.
 */
export function formatEta(etaSeconds: number | null, completionAt: string | null, now: Date): string {
  if (etaSeconds === 0) return 'done';
  if (completionAt === null) return '--:--';
  const at = new Date(completionAt);
  if (Number.isNaN(at.getTime())) return '--:--';
  const clock = `${pad2(at.getHours())}:${pad2(at.getMinutes())}`;
  const sameDay =
    at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
  if (sameDay) return clock;
  if (at.getTime() - now.getTime() < 6 * 86_400_000) return `${WEEKDAY[at.getDay()]} ${clock}`;
  return `${formatDate(at)} ${clock}`;
}

function formatDate(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** An ISO timestamp as local "YYYY-MM-DD HH:MM:SS"; "-" when absent. */
export function formatTimestamp(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${formatDate(d)} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Dollars with cents: 1830.4567 → "$1,830.46". */
export function formatUsd(usd: number): string {
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
