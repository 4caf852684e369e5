import type { Redis } from 'ioredis';
import type { Clock, FleetStore, JobStore, Keys, PoolStore, TokenStore, WorkerRegistry } from '@kumo/shared';
import type { JobEventsHub } from './job-events-hub';
import type { ListingResolver } from './listings/listing-resolver';
import type { PoolQueues } from './pool-queues';

/** What the routes use, attached once to the app (`app.kumo`) and closed in onClose. */
export interface ApiContext {
  redis: Redis;
  /**
   * BullMQ queues the API reads or fills (metrics, the admin board, simulations, HTTPS leases), on a
   * connection of their own: BullMQ defines ~50 scripts on its connection, and ioredis copies them all
   * into every pipeline made on it, which would tax every job read.
   */
  queues: PoolQueues;
  keys: Keys;
  clock: Clock;
  jobs: JobStore;
  pools: PoolStore;
  tokens: TokenStore;
  fleet: FleetStore;
  workers: WorkerRegistry;
  hub: JobEventsHub;
  /** Reads extraction jobs' source.listing at submit (jobs and pipelines). */
  listings: ListingResolver;
}

declare module 'fastify' {
  interface FastifyInstance {
    kumo: ApiContext;
  }
}
