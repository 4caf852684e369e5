import { spawnControlPlane } from './control-plane-process';
import { client } from './http';
import { freePort, startTestRedis, type TestRedis } from './redis-server';

/**
 * A Redis with AOF on a folder of the test's own (stopped or killed, another started on the same folder
 * and `port` finds its writes) and `npm start` on it as a real process, with task locks short enough
 * that a lost write costs seconds: the setup of the tests where Redis itself goes away mid-job.
 */
export async function startOnAofRedis(o: { dir: string; prefix: string; token: string; workers: number }): Promise<{
  redis: TestRedis;
  port: number;
  cp: Awaited<ReturnType<typeof spawnControlPlane>>;
  api: ReturnType<typeof client>;
}> {
  const port = await freePort();
  const redis = await startTestRedis({ appendonly: true, dir: o.dir, port });
  const apiPort = await freePort();
  const cp = await spawnControlPlane({
    REDIS_URL: redis.url,
    PORT: String(apiPort),
    KUMO_ADMIN_TOKEN: o.token,
    KUMO_PREFIX: o.prefix,
    KUMO_LOCAL_WORKERS: String(o.workers),
    KUMO_LOCAL_SLOTS: '8',
    KUMO_TASK_LOCK_MS: '3000',
    KUMO_DRAIN_MS: '500',
  });
  return { redis, port, cp, api: client(`http://127.0.0.1:${apiPort}`, o.token) };
}
