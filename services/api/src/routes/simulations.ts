import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  KumoError,
  newId,
  SIMULATION_QUEUE,
  simulationInputSchema,
  type SimulationReport,
  type SimulationState,
} from '@kumo/shared';
import { READERS, SUBMITTERS } from '../plugins/auth';
import { errorSchema } from './schemas';

const KEEP_S = 7 * 86_400;

/**
 * What newId('sim') makes. Anything else names no simulation: BullMQ keeps its own keys beside its
 * jobs' (`meta`, `events`, `id`...), so reading any id as a job would answer with the queue's metadata.
 */
const SIMULATION_ID = /^sim_[0-9a-hjkmnp-tv-z]{18}$/;

const simulationViewSchema = z.object({
  id: z.string(),
  state: z.enum(['queued', 'running', 'done', 'failed']),
  report: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

/**
 * `POST /v1/simulations` queues a rehearsal ("with 64 spot A100s, when does it finish, what does it
 * cost?"); a scheduler runs it on virtual time. `GET /v1/simulations/:id` answers its state and report.
 */
export function simulationRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const queue = app.kumo.queues.byName(SIMULATION_QUEUE);

  r.post('/v1/simulations', {
    config: { roles: SUBMITTERS },
    schema: {
      summary: 'Rehearse a job on a simulated pool (real scheduler and autoscaler, virtual time)',
      description: 'See examples/simulate-cc-main-2023-50.json. Answers 202 with an id; poll GET /v1/simulations/:id.',
      body: simulationInputSchema,
      response: { 202: simulationViewSchema, 400: errorSchema },
    },
    handler: async (req, reply) => {
      const id = newId('sim');
      await queue.add(
        'simulate',
        { input: req.body },
        { jobId: id, removeOnComplete: { age: KEEP_S }, removeOnFail: { age: KEEP_S } },
      );
      req.log.info({ simulationId: id }, 'simulation queued');
      return reply.status(202).send({ id, state: 'queued' satisfies SimulationState });
    },
  });

  r.get('/v1/simulations/:id', {
    config: { roles: READERS },
    schema: {
      summary: 'A simulation: state, and the report once done',
      params: z.object({ id: z.string().min(1).max(64) }),
      response: { 200: simulationViewSchema, 404: errorSchema },
    },
    handler: async (req) => {
      const job = SIMULATION_ID.test(req.params.id) ? await queue.getJob(req.params.id) : undefined;
      if (!job) throw new KumoError('NOT_FOUND', `no simulation with id '${req.params.id}'`);
      const s = await job.getState();
      const state: SimulationState =
        s === 'completed' ? 'done' : s === 'failed' ? 'failed' : s === 'active' ? 'running' : 'queued';
      return {
        id: req.params.id,
        state,
        ...(state === 'done' ? { report: job.returnvalue as SimulationReport & Record<string, unknown> } : {}),
        ...(state === 'failed' ? { error: { code: 'SIMULATION_FAILED', message: job.failedReason } } : {}),
      };
    },
  });
}
