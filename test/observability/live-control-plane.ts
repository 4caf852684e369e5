import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type ControlPlane, startControlPlane } from '@kumo/local';
import { createLogger, KumoError, type CreateVmRequest, type FleetProvider, type VmInfo } from '@kumo/shared';
import { client } from '../support/http';
import { testPrefix } from '../support/prefix';

export const TOKEN = 'observability-admin-token-0123456789';

/** The local fleet, whose first create answers "no capacity": a real provisioning error to count. */
class FirstCreateStockout implements FleetProvider {
  readonly kind = 'local' as const;
  private failed = false;
  constructor(private readonly inner: FleetProvider) {}
  async create(req: CreateVmRequest): Promise<VmInfo> {
    if (!this.failed) {
      this.failed = true;
      throw new KumoError('ZONE_RESOURCE_POOL_EXHAUSTED', `no capacity in ${req.zone}`, {
        details: { zone: req.zone },
      });
    }
    return this.inner.create(req);
  }
  delete(name: string, zone: string): Promise<void> {
    return this.inner.delete(name, zone);
  }
  list(): Promise<VmInfo[]> {
    return this.inner.list();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface LiveControlPlane {
  cp: ControlPlane;
  api: ReturnType<typeof client>;
  prefix: string;
  /** GET /metrics over HTTP with the admin token (or `token`). */
  scrape(token?: string): Promise<{ status: number; contentType: string; text: string }>;
  stop(): Promise<void>;
}

/** The whole control plane in-process on the test Redis, one worker process of 16 slots. */
export async function startLiveControlPlane(redisUrl: string, name: string): Promise<LiveControlPlane> {
  const prefix = testPrefix(name);
  const cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), `kumo-${name}-`)),
    host: '127.0.0.1',
    port: 0,
    adminToken: TOKEN,
    redisUrl,
    prefix,
    logger: createLogger({ name, level: 'warn' }),
    localPool: { max: 1, slotsPerVm: 16, idleTimeoutSeconds: 30 },
    workerEnv: { LOG_LEVEL: 'warn', KUMO_DRAIN_MS: '1000' },
    scaleIntervalMs: 300,
    stockoutBackoffMs: 300,
    wrapProvider: (local) => new FirstCreateStockout(local),
    cloud: { bus: 'redis', provider: 'local' },
    inheritedEnv: process.env,
  });
  const scrape = async (token = TOKEN): Promise<{ status: number; contentType: string; text: string }> => {
    const res = await fetch(`${cp.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  return {
    cp,
    api: client(cp.url, TOKEN),
    prefix,
    scrape,
    stop: async () => {
      await cp.stop();
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}
