import type { Redis } from 'ioredis';
import type { Row } from './report';

/** What every measurement gets from run.ts. */
export interface BenchContext {
  redisUrl: string;
  /** An admin connection to the bench's own redis-server (FLUSHALL between measurements is fine). */
  admin: Redis;
  quick: boolean;
  log: (msg: string) => void;
}

export type Measurement = (ctx: BenchContext) => Promise<Row[]>;
