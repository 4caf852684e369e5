import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { monthSchema, SPEND_BY, spendCsv, spendReport } from '@kumo/shared';
import { ADMINS, READERS } from '../plugins/auth';
import { errorSchema } from './schemas';

const spendQuery = z.strictObject({
  by: z.enum(SPEND_BY).default('user'),
  /** Default: the current month, in the budgets' time zone. */
  month: monthSchema.optional(),
});
const spendSchema = z.object({
  month: z.string(),
  by: z.enum(SPEND_BY),
  rows: z.array(z.object({ name: z.string(), costUsd: z.number() })),
  totalUsd: z.number(),
  /** The team's monthly budget (null: none); given for the current month only. */
  teamMaxCostUsd: z.number().nullable(),
});
const teamBudgetSchema = z.object({ maxCostUsd: z.number().nullable(), month: z.string(), monthCostUsd: z.number() });

/**
 * The month's bill: spend by user, pool or job (JSON, or the same rows as CSV), and the team's monthly
 * budget over everyone. Months start at midnight in the budgets' time zone (Asia/Tokyo unless configured).
 */
export function spendRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs, redis, keys } = app.kumo;

  r.get('/v1/spend', {
    config: { roles: READERS },
    schema: {
      summary: 'A month’s spend by user, pool or job',
      querystring: spendQuery,
      response: { 200: spendSchema, 400: errorSchema },
    },
    handler: async (req) => {
      const current = jobs.budgets.month();
      const month = req.query.month ?? current;
      const [report, team] = await Promise.all([spendReport(redis, keys, month, req.query.by), jobs.budgets.team()]);
      return { ...report, teamMaxCostUsd: month === current ? team.maxCostUsd : null };
    },
  });

  r.get('/v1/spend.csv', {
    config: { roles: READERS },
    schema: { summary: 'The same spend report as CSV (month,<by>,costUsd)', querystring: spendQuery },
    handler: async (req, reply) => {
      const month = req.query.month ?? jobs.budgets.month();
      const csv = spendCsv(await spendReport(redis, keys, month, req.query.by));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="kumo-spend-${month}-by-${req.query.by}.csv"`)
        .send(csv);
    },
  });

  r.get('/v1/team/budget', {
    config: { roles: READERS },
    schema: {
      summary: 'The team’s monthly budget over everyone, and the month’s spend',
      response: { 200: teamBudgetSchema },
    },
    handler: async () => jobs.budgets.team(),
  });

  r.put('/v1/team/budget', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Set the team’s monthly budget (maxCostUsd over everyone’s jobs); null removes it',
      body: z.strictObject({ maxCostUsd: z.number().min(0).max(100_000_000).nullable() }),
      response: { 200: teamBudgetSchema, 400: errorSchema },
    },
    handler: async (req) => {
      await jobs.budgets.setTeam(req.body.maxCostUsd);
      req.log.info({ maxCostUsd: req.body.maxCostUsd }, 'team budget set');
      return jobs.budgets.team();
    },
  });
}
