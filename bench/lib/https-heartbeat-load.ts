/**
 * Load for row 12, in its own process: BENCH_WORKERS light HTTPS workers of pool `bench`, each with a
 * worker token of its own (minted through the API) and a keep-alive connection of its own, as each
 * contributor's machine has. Each leases one task (POST /v1/workers/lease) and then renews it as the
 * HTTPS worker agent does (POST /v1/workers/heartbeat, every lease / 3), the workers spread evenly over
 * that period. Prints `READY {json}` once every worker holds its lease, and, BENCH_PERIODS periods
 * later (each worker beating once a period), `DONE {json}` with what it did.
 */
import { Agent, request } from 'node:http';
import { percentile } from './report';

interface Answer {
  status: number;
  body: unknown;
}

function post(agent: Agent, url: URL, token: string, body: unknown): Promise<Answer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const env = process.env;
  const api = env.BENCH_API_URL!;
  const adminToken = env.BENCH_ADMIN_TOKEN!;
  const workers = Number(env.BENCH_WORKERS ?? 2000);
  const periods = Number(env.BENCH_PERIODS ?? 1);
  const url = (path: string): URL => new URL(path, api);
  const admin = new Agent({ keepAlive: true, maxSockets: 16 });

  // Tokens and leases, 50 workers at a time: set-up, not measured.
  const fleet: { id: string; token: string; agent: Agent; leaseId: string }[] = [];
  let leaseSeconds = 60;
  for (let from = 0; from < workers; from += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, workers - from) }, async (_, k) => {
        const id = `https-sim-${from + k}`;
        const minted = await post(admin, url('/v1/tokens'), adminToken, { role: 'worker', name: id, pool: 'bench' });
        if (minted.status !== 201) throw new Error(`token for ${id}: ${minted.status} ${JSON.stringify(minted.body)}`);
        const token = (minted.body as { token: string }).token;
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        for (let tries = 0; ; tries++) {
          const leased = await post(agent, url('/v1/workers/lease'), token, { workerId: id, pool: 'bench', max: 1 });
          const got = leased.body as { tasks?: { leaseId: string }[]; leaseSeconds?: number };
          if (leased.status === 200 && got.tasks?.length) {
            leaseSeconds = got.leaseSeconds ?? leaseSeconds;
            return { id, token, agent, leaseId: got.tasks[0]!.leaseId };
          }
          if (tries > 100)
            throw new Error(`${id} found nothing to lease: ${leased.status} ${JSON.stringify(leased.body)}`);
          await sleep(100);
        }
      }),
    );
    fleet.push(...batch);
  }

  // The agent's own period (services/worker/src/http-worker-agent.ts): a third of the lease.
  const everyMs = Math.max(500, (leaseSeconds * 1000) / 3);
  const counts = { beats: 0, held: 0, lost: 0, stop: 0, failures: 0 };
  const latencies: number[] = [];
  const t0 = Date.now();
  const until = t0 + periods * everyMs;
  process.stdout.write(`READY ${JSON.stringify({ workers: fleet.length, leaseSeconds, everyMs })}\n`);
  await Promise.all(
    fleet.map(async (w, n) => {
      for (let at = t0 + (everyMs * n) / fleet.length; at < until; at += everyMs) {
        await sleep(Math.max(0, at - Date.now()));
        const s0 = performance.now();
        try {
          const res = await post(w.agent, url('/v1/workers/heartbeat'), w.token, {
            workerId: w.id,
            leases: [w.leaseId],
          });
          latencies.push(performance.now() - s0);
          const r = res.body as { held?: string[]; lost?: string[]; stop?: string[] };
          if (res.status !== 200) counts.failures++;
          counts.beats++;
          counts.held += r.held?.length ?? 0;
          counts.lost += r.lost?.length ?? 0;
          counts.stop += r.stop?.length ?? 0;
        } catch {
          counts.failures++;
        }
      }
    }),
  );
  const elapsed = (Date.now() - t0) / 1000;
  for (const w of fleet) w.agent.destroy();
  admin.destroy();
  process.stdout.write(
    `DONE ${JSON.stringify({ workers: fleet.length, seconds: elapsed, everyMs, ...counts, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) })}\n`,
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
