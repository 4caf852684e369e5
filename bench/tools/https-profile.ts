/**
 * Row 11 alone, once, in this process, for a CPU profile of the HTTPS path (agents, API and scheduler
 * share this process in the row, so BENCH_PROFILE_DIR's child-server profiles do not cover it):
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/tools/https-profile.ts [tasks=10000]
 *   npx tsx bench/tools/profile-summary.ts /tmp/prof/<file>.cpuprofile
 */
import { Redis } from 'ioredis';
import { startTestRedis } from '../../test/support/redis-server';
import { httpsE2e } from '../https-e2e';

const tasks = Number(process.argv[2] ?? 10_000);
const redis = await startTestRedis();
const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
try {
  const r = await httpsE2e(
    { redisUrl: redis.url, admin, quick: true, log: (m) => console.log(m) },
    tasks,
    2,
    32,
    300_000,
  );
  console.log(
    `${tasks} tasks in ${r.ms.toFixed(0)} ms = ${r.rate.toFixed(0)}/s; CPU node ${r.cpu.node.toFixed(2)}, redis ${r.cpu.redis.toFixed(2)}`,
  );
} finally {
  await admin.quit();
  await redis.stop();
}
process.exit(0);
