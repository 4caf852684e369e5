import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { KumoError, poolNameSchema, poolSettingsSchema, type Pool } from '@kumo/shared';
import { ADMINS, READERS } from '../plugins/auth';
import { errorSchema, poolViewSchema } from './schemas';

export function poolRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pools, fleet, workers } = app.kumo;

  const view = async (p: Pool) => ({
    ...p,
    updatedAt: new Date(p.updatedAt).toISOString(),
    status: (await pools.status(p.name)) ?? null,
    vms: await fleet.live(p.name),
    workers: await workers.list(p.name),
  });

  r.get('/v1/pools', {
    config: { roles: READERS },
    schema: { summary: 'Worker pools, their settings, VMs, workers and the autoscaler’s last reasons' },
    handler: async () => ({ pools: await Promise.all((await pools.list()).map(view)) }),
  });

  r.get('/v1/pools/:name', {
    config: { roles: READERS },
    schema: {
      summary: 'One pool',
      params: z.object({ name: poolNameSchema }),
      response: { 200: poolViewSchema, 404: errorSchema },
    },
    handler: async (req) => {
      const p = await pools.get(req.params.name);
      if (!p) throw new KumoError('POOL_NOT_FOUND', `no pool named '${req.params.name}'`);
      return view(p);
    },
  });

  r.put('/v1/pools/:name', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Create or replace a pool’s settings',
      description:
        'Example: {"machineType":"a2-highgpu-1g","gpu":{"type":"nvidia-tesla-a100","count":1},"spot":true,"zones":["us-central1-a","us-central1-b"],"min":0,"max":64}',
      params: z.object({ name: poolNameSchema }),
      body: poolSettingsSchema,
      response: { 200: poolViewSchema, 201: poolViewSchema, 400: errorSchema },
    },
    handler: async (req, reply) => {
      const { pool, created } = await pools.put(req.params.name, req.body);
      req.log.info({ pool: pool.name, created }, 'pool saved');
      return reply.status(created ? 201 : 200).send(await view(pool));
    },
  });
}
