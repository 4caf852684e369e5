import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ADMINS, READERS } from '../plugins/auth';
import { poolNameSchema } from '@kumo/shared';
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
const userSchema = z.object({
  name: z.string(),
  weight: z.number(),
  maxSlots: z.record(z.string(), z.number()),
  budget: userBudgetSchema,
});

/**
 * Users' shares of the pools (weight, slot caps) and their budgets. Per-user budgets: what a user's jobs have cost in all and this month, and the most they may, ever or
 * each month (`period`). When the next task of any of their jobs would cross it, feeding stops
 * (budget_exhausted) until an admin raises it or, for a monthly budget, the next month starts.
 */
export function userRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs } = app.kumo;

  r.get('/v1/users/:name', {
    config: { roles: READERS },
    schema: {
      summary: 'A user’s share of the pools (weight, maxSlots by pool) and their budget',
      params: userParams,
      response: { 200: userSchema },
    },
    handler: async (req) => ({
      ...(await jobs.shares.get(req.params.name)),
      budget: await jobs.budgets.get(req.params.name),
    }),
  });

  r.put('/v1/users/:name', {
    config: { roles: ADMINS },
    schema: {
      summary:
        'Set a user’s share: weight (their part of a pool against users of the same priority) and maxSlots by pool',
      params: userParams,
      body: z.strictObject({
        weight: z.number().min(0.01).max(1000).default(1),
        maxSlots: z.record(poolNameSchema, z.int().min(0).max(1_000_000)).default({}),
      }),
      response: { 200: userSchema, 400: errorSchema },
    },
    handler: async (req) => {
      await jobs.shares.set(req.params.name, req.body);
      req.log.info({ user: req.params.name, weight: req.body.weight, maxSlots: req.body.maxSlots }, 'user shares set');
      return { ...(await jobs.shares.get(req.params.name)), budget: await jobs.budgets.get(req.params.name) };
    },
  });

  r.get('/v1/users/:name/budget', {
    config: { roles: READERS },
    schema: {
      summary: 'A user’s spend across their jobs, and their budget',
      params: userParams,
      response: { 200: userBudgetSchema },
    },
    handler: async (req) => jobs.budgets.get(req.params.name),
  });

  r.put('/v1/users/:name/budget', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Set a user’s budget (maxCostUsd across all their jobs, ever or each month); null removes it',
      params: userParams,
      body: z.strictObject({
        maxCostUsd: z.number().min(0).max(10_000_000).nullable(),
        period: z.enum(['all', 'month']).default('all'),
      }),
      response: { 200: userBudgetSchema, 400: errorSchema },
    },
    handler: async (req) => {
      await jobs.budgets.set(req.params.name, req.body.maxCostUsd, req.body.period);
      req.log.info(
        { user: req.params.name, maxCostUsd: req.body.maxCostUsd, period: req.body.period },
        'user budget set',
      );
      return jobs.budgets.get(req.params.name);
    },
  });
}
