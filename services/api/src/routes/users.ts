import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ADMINS, READERS } from '../plugins/auth';
import { errorSchema } from './schemas';

const userParams = z.object({ name: z.string().min(1).max(128) });
const userBudgetSchema = z.object({
  name: z.string(),
  costUsd: z.number(),
  maxCostUsd: z.number().nullable(),
  /** `all`: the budget holds the user's spend ever; `month`: this month's, from zero each month. */
  period: z.enum(['all', 'month']),
  month: z.string(),
  monthCostUsd: z.number(),
});

/**
 * Per-user budgets: what a user's jobs have cost in all and this month, and the most they may, ever or
 * each month (`period`). When the next task of any of their jobs would cross it, feeding stops
 * (budget_exhausted) until an admin raises it or, for a monthly budget, the next month starts.
 */
export function userRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs } = app.kumo;

  r.get('/v1/users/:name/budget', {
    config: { roles: READERS },
    schema: { summary: 'A user’s spend across their jobs, and their budget', params: userParams, response: { 200: userBudgetSchema } },
    handler: async (req) => jobs.budgets.get(req.params.name),
  });

  r.put('/v1/users/:name/budget', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Set a user’s budget (maxCostUsd across all their jobs, ever or each month); null removes it',
      params: userParams,
      body: z.strictObject({ maxCostUsd: z.number().min(0).max(10_000_000).nullable(), period: z.enum(['all', 'month']).default('all') }),
      response: { 200: userBudgetSchema, 400: errorSchema },
    },
    handler: async (req) => {
      await jobs.budgets.set(req.params.name, req.body.maxCostUsd, req.body.period);
      req.log.info({ user: req.params.name, maxCostUsd: req.body.maxCostUsd, period: req.body.period }, 'user budget set');
      return jobs.budgets.get(req.params.name);
    },
  });
}
