import { z } from 'zod';

/** Where a month starts when nothing else is configured: the team works in Japan. */
export const DEFAULT_BUDGET_TIME_ZONE = 'Asia/Tokyo';

/**
 * How long a month's spend hash is kept after its last cost: the current month and the three before it
 * can be reported; older bills are Cloud Billing's job, not Redis's.
 */
export const SPEND_MONTH_TTL_S = 124 * 86_400;

/** `YYYY-MM`, as the spend report's `month` and the spend keys name a month. */
export const monthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month is YYYY-MM');

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * The month (`YYYY-MM`) that instant `ms` falls in, in `timeZone`. Budgets with `period: "month"` count
 * the spend of this month, so they start again from zero when it changes, at midnight of that zone.
 * Throws a RangeError for a zone the runtime does not know (checked once at start-up, see `checkTimeZone`).
 */
export function monthOf(ms: number, timeZone: string = DEFAULT_BUDGET_TIME_ZONE): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' });
    formats.set(timeZone, f);
  }
  const parts = f.formatToParts(ms);
  return `${parts.find((p) => p.type === 'year')!.value}-${parts.find((p) => p.type === 'month')!.value}`;
}

/** True when the runtime knows the time zone (an env value is checked with it before anything runs). */
export function isTimeZone(timeZone: string): boolean {
  try {
    monthOf(0, timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The environment variable every service that reads or writes spend takes (api, scheduler, local). */
export const budgetTimeZoneEnvShape = {
  /** Whose midnight starts a month for monthly budgets and the spend report (an IANA zone). */
  KUMO_BUDGET_TIME_ZONE: z
    .string()
    .refine(isTimeZone, 'not an IANA time zone this runtime knows')
    .default(DEFAULT_BUDGET_TIME_ZONE),
};
