import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, wallClock } from '@kumo/shared';
import { taskHost } from '../../../test/support/task-host';
import { waitFor } from '../../../test/support/wait';
import { HttpWorkerAgent } from './http-worker-agent';

const SLOTS = 2;
const TASKS = 8;

/**
 * A fake API for one agent: hands out TASKS no-op tasks, holds the first completion call open until
 * `release()` (unless `hold` is false), refuses the ends of the tasks in `refuse` (their leases lost), and
 * records what the agent asked.
 */
async function fakeApi(o: { hold?: boolean; refuse?: number[] } = {}): Promise<{
  url: string;
  server: Server;
  release: () => void;
  leaseCalls: { max: number; held: number }[];
  heartbeats: string[][];
  completions: string[][];
}> {
  let granted = 0;
  const held = new Set<string>();
  const leaseCalls: { max: number; held: number }[] = [];
  const heartbeats: string[][] = [];
  const completions: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const read = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    let text = '';
    for await (const c of req) text += String(c);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const server = createServer((req, res) => {
    void read(req).then(async (body) => {
      const answer = (o: unknown): void =>
        void res.setHeader('content-type', 'application/json').end(JSON.stringify(o));
      if (req.url === '/v1/workers/lease') {
        const max = body.max as number;
        leaseCalls.push({ max, held: held.size });
        const tasks = [];
        while (tasks.length < max && granted < TASKS) {
          const leaseId = `00000000-0000-4000-8000-${String(granted).padStart(12, '0')}`;
          held.add(leaseId);
          tasks.push({
            leaseId,
            jobId: 'j1',
            index: granted++,
            attempt: 1,
            kind: 'extraction',
            run: { builtin: 'noop' },
            env: {},
            timeoutMs: 60_000,
            stopGraceMs: 1000,
            leaseSeconds: 1.5,
          });
        }
        return answer({ tasks, leaseSeconds: 1.5 });
      }
      if (req.url === '/v1/workers/heartbeat') {
        heartbeats.push(body.leases as string[]);
        return answer({ held: body.leases, lost: [], stop: [] });
      }
      const ids = (body.completions as { leaseId: string }[]).map((c) => c.leaseId);
      completions.push(ids);
      if (completions.length === 1 && o.hold !== false) await gate;
      for (const id of ids) held.delete(id);
      const refused = (id: string): boolean => (o.refuse ?? []).includes(Number(id.slice(-12)));
      return answer({
        results: ids.map((leaseId) =>
          refused(leaseId)
            ? { leaseId, error: { code: 'LEASE_LOST', message: 'lease lapsed', retryable: false } }
            : { leaseId, ok: true, final: true },
        ),
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, release, leaseCalls, heartbeats, completions };
}

const agentOn = (controlUrl: string): HttpWorkerAgent =>
  new HttpWorkerAgent({
    controlUrl,
    token: 'worker-token',
    pool: 'p',
    id: 'w1',
    slots: SLOTS,
    drainMs: 1000,
    ...taskHost(),
    clock: wallClock,
    logger: createLogger({ name: 'http-worker-agent', level: 'silent' }),
    idlePollMs: 50,
  });

describe('the HTTPS worker agent', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('frees a slot when its task ends: leases again while the end is reported, heartbeats the lease till then', async () => {
    const api = await fakeApi();
    const agent = agentOn(api.url);
    cleanup = async () => {
      api.release();
      await agent.stop({ handBackNow: true });
      await new Promise((r) => api.server.close(r));
    };
    await agent.start();
    // The first completion call is held open: its tasks' slots are free, their leases not yet ended.
    const first = await waitFor(async () => api.completions[0], { what: 'a completion call' });
    await waitFor(async () => api.leaseCalls.length >= 2, { what: 'a lease call while the completion is in flight' });
    await waitFor(async () => api.heartbeats.some((h) => first.every((id) => h.includes(id))), {
      what: 'a heartbeat of the leases being reported',
    });
    api.release();
    await waitFor(async () => agent.stats.succeeded === TASKS, { what: 'every task reported' });
    expect(api.completions.flat().sort()).toHaveLength(TASKS);
    expect(new Set(api.completions.flat()).size).toBe(TASKS);
    // Never more leases held than twice the slots: the slots' tasks, and as many being reported.
    for (const c of api.leaseCalls) expect(c.held + c.max).toBeLessThanOrEqual(2 * SLOTS);
    expect(api.leaseCalls.some((c) => c.held > 0)).toBe(true);
  });

  it('counts a task whose end the API refused (its lease lost) as lost, not also as succeeded', async () => {
    const api = await fakeApi({ hold: false, refuse: [1, 4] });
    const agent = agentOn(api.url);
    cleanup = async () => {
      await agent.stop({ handBackNow: true });
      await new Promise((r) => api.server.close(r));
    };
    await agent.start();
    await waitFor(async () => api.completions.flat().length === TASKS, { what: 'every task reported' });
    // Stopped, it has taken in every answer (it waits for the ends being reported).
    await agent.stop();
    expect(agent.stats).toEqual({ succeeded: TASKS - 2, failed: 0, released: 0, lost: 2 });
  });
});
