import { KumoError } from '../errors';
import type { Logger } from '../logger';
import type { Bus } from './bus';
import { PubSubBus } from './pubsub-bus';
import { RedisStreamsBus } from './redis-streams-bus';

export interface CreateBusOptions {
  /** `KUMO_BUS`: Redis Streams locally, Pub/Sub in production. */
  kind: 'redis' | 'pubsub';
  /** Needed for `redis`. */
  redisUrl?: string;
  /** Redis key prefix, and the Pub/Sub topic prefix. Default `'kumo'`. */
  prefix?: string;
  /** `GOOGLE_CLOUD_PROJECT`; needed for `pubsub`. */
  projectId?: string;
  logger?: Logger;
}

/**
 * The one place a service turns its environment into a bus. Pub/Sub reads `PUBSUB_EMULATOR_HOST` itself.
 */
export async function createBus(opts: CreateBusOptions): Promise<Bus> {
  const { kind, redisUrl, prefix, projectId, logger } = opts;
  if (kind === 'redis') {
    if (!redisUrl) throw new KumoError('CONFIG_INVALID', 'the redis bus needs a Redis URL (REDIS_URL)');
    return new RedisStreamsBus({ redis: redisUrl, ...(prefix ? { prefix } : {}), ...(logger ? { logger } : {}) });
  }
  if (kind === 'pubsub') {
    if (!projectId) throw new KumoError('CONFIG_INVALID', 'the pubsub bus needs a project id (GOOGLE_CLOUD_PROJECT)');
    return new PubSubBus({ projectId, ...(prefix ? { topicPrefix: prefix } : {}), ...(logger ? { logger } : {}) });
  }
  throw new KumoError('CONFIG_INVALID', `unknown bus kind '${String(kind)}' (KUMO_BUS is redis or pubsub)`);
}
