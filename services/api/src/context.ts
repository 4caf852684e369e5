import type { Redis } from 'ioredis';
import type { Clock, FleetStore, JobStore, Keys, PoolStore, TokenStore, WorkerRegistry } from '@kumo/shared';
import type { JobEventsHub } from './job-events-hub';

/** What the routes use, attached once to the app (`app.kumo`) and closed in onClose. */
export interface ApiContext {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  jobs: JobStore;
  pools: PoolStore;
  tokens: TokenStore;
  fleet: FleetStore;
  workers: WorkerRegistry;
  hub: JobEventsHub;
}

declare module 'fastify' {
  interface FastifyInstance {
    kumo: ApiContext;
  }
}
