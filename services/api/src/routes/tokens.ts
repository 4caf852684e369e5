import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { poolNameSchema, ROLES } from '@kumo/shared';
import { ADMINS } from '../plugins/auth';
import { errorSchema, tokenCreatedSchema } from './schemas';

const createTokenBody = z
  .strictObject({
    role: z.enum(ROLES as unknown as ['admin', 'submitter', 'viewer', 'worker']),
    name: z.string().min(1).max(128),
    pool: poolNameSchema.optional(),
    ttlSeconds: z
      .int()
      .min(60)
      .max(10 * 365 * 86_400)
      .optional(),
  })
  .refine((b) => (b.role === 'worker') === (b.pool !== undefined), {
    message: 'worker tokens need a pool; other roles take none',
    path: ['pool'],
  });

export function tokenRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tokens } = app.kumo;

  r.post('/v1/tokens', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Mint a token; the secret is in this answer only',
      body: createTokenBody,
      response: { 201: tokenCreatedSchema, 400: errorSchema },
    },
    handler: async (req, reply) => {
      const t = await tokens.create(req.body);
      req.log.info({ tokenId: t.id, role: t.principal.role, name: t.principal.name }, 'token created');
      return reply.status(201).send({
        id: t.id,
        token: t.token,
        role: t.principal.role,
        name: t.principal.name,
        pool: t.principal.pool ?? null,
        expiresAt: t.expiresAt ? new Date(t.expiresAt).toISOString() : null,
      });
    },
  });

  r.delete('/v1/tokens/:id', {
    config: { roles: ADMINS },
    schema: {
      summary: 'Revoke a token',
      params: z.object({ id: z.string().min(1).max(64) }),
      response: { 204: z.null().describe('revoked'), 404: errorSchema },
    },
    handler: async (req, reply) => {
      await tokens.revoke(req.params.id);
      req.log.info({ tokenId: req.params.id }, 'token revoked');
      return reply.status(204).send(null);
    },
  });
}
