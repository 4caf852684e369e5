import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, BusHandler, BusMessage, FleetEvent, ProvisionCommand, Topic } from '@kumo/shared';
import { isKumoError } from '@kumo/shared';

export interface BusFixture {
  bus: Bus;
  /** Removes what the bus left behind (keys, topics); the contract has closed the bus by then. */
  cleanup(): Promise<void>;
}

export interface BusContractOptions {
  /**
   * Whether the transport may deliver a message twice even when every handler succeeds (Pub/Sub may;
   * Redis Streams does not). Where it may, exactly-once is checked after deduping by id, as handlers do.
   */
  mayDuplicate?: boolean;
}

/** Short, so redelivery tests are quick; both buses in tests are set up to honour it. */
const ACK_DEADLINE_MS = 1000;

/**
 * The bus contract (shared/src/bus/bus.ts), run against every implementation: what the scheduler,
 * provisioner, ingester and workers may rely on whichever bus they are given.
 */
export function busContract(name: string, makeBus: () => Promise<BusFixture>, opts: BusContractOptions = {}): void {
  describe(`bus contract: ${name}`, () => {
    let fixtures: BusFixture[] = [];

    async function openBus(): Promise<Bus> {
      const f = await makeBus();
      fixtures.push(f);
      return f.bus;
    }

    afterEach(async () => {
      const open = fixtures;
      fixtures = [];
      for (const f of open) {
        await f.bus.close();
        await f.cleanup();
      }
    });

    it('delivers a published message with its id, topic, data, time and a first delivery attempt', async () => {
      const bus = await openBus();
      const got = recorder<'fleet'>();
      await bus.subscribe('fleet', 'roundtrip', got.handler, { ackDeadlineMs: ACK_DEADLINE_MS });
      const before = Date.now();
      const event = fleetEvent('vm-1');
      const id = await bus.publish('fleet', event);
      const chosen = await bus.publish('fleet', fleetEvent('vm-2'), { id: 'my-own-id-2' });
      const after = Date.now();
      await waitFor(() => got.msgs.length >= 2);
      expect(chosen).toBe('my-own-id-2');
      const first = got.msgs.find((m) => m.id === id);
      expect(first).toMatchObject({ id, topic: 'fleet', deliveryAttempt: 1, data: event });
      expect(first!.publishedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(first!.publishedAt).toBeLessThanOrEqual(after + 1000);
      expect(got.msgs.find((m) => m.id === 'my-own-id-2')?.data).toEqual(fleetEvent('vm-2'));
      expect(got.msgs).toHaveLength(2);
    });

    it('rejects unknown topics and malformed group names with a typed error', async () => {
      const bus = await openBus();
      const noop: BusHandler<Topic> = async () => {};
      await expect(bus.subscribe('nope' as Topic, 'g', noop)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(bus.subscribe('fleet', 'bad group!', noop)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(bus.publish('nope' as 'fleet', fleetEvent('x'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });

    it('delivers every message to each group', async () => {
      const bus = await openBus();
      const a = recorder<'provision'>();
      const b = recorder<'provision'>();
      await bus.subscribe('provision', 'scheduler', a.handler, { ackDeadlineMs: ACK_DEADLINE_MS });
      await bus.subscribe('provision', 'audit', b.handler, { ackDeadlineMs: ACK_DEADLINE_MS });
      const ids = await Promise.all(range(20).map((i) => bus.publish('provision', deleteCommand(i))));
      await waitFor(() => unique(a.msgs).size === 20 && unique(b.msgs).size === 20);
      expect(unique(a.msgs)).toEqual(new Set(ids));
      expect(unique(b.msgs)).toEqual(new Set(ids));
      expect(a.msgs.every((m) => m.topic === 'provision')).toBe(true);
    });

    it('shares one group between its subscribers', async () => {
      const bus = await openBus();
      const one = recorder<'fleet'>(25);
      const two = recorder<'fleet'>(25);
      await bus.subscribe('fleet', 'shared', one.handler, { concurrency: 2, ackDeadlineMs: ACK_DEADLINE_MS });
      await bus.subscribe('fleet', 'shared', two.handler, { concurrency: 2, ackDeadlineMs: ACK_DEADLINE_MS });
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) ids.push(await bus.publish('fleet', fleetEvent(`vm-${i}`)));
      await waitFor(() => new Set([...unique(one.msgs), ...unique(two.msgs)]).size === 40);
      expect(new Set([...unique(one.msgs), ...unique(two.msgs)])).toEqual(new Set(ids));
      expect(one.msgs.length).toBeGreaterThan(0);
      expect(two.msgs.length).toBeGreaterThan(0);
      if (!opts.mayDuplicate) expect(one.msgs.length + two.msgs.length).toBe(40);
    });

    it('redelivers a message whose handler threw, with the same id and a higher delivery attempt', async () => {
      const bus = await openBus();
      const seen: BusMessage<'fleet'>[] = [];
      await bus.subscribe(
        'fleet',
        'flaky',
        async (m) => {
          seen.push(m);
          if (seen.length === 1) throw new Error('transient failure');
        },
        { ackDeadlineMs: ACK_DEADLINE_MS },
      );
      const id = await bus.publish('fleet', fleetEvent('vm-flaky'));
      await waitFor(() => seen.length >= 2, 10_000);
      expect(seen[0]).toMatchObject({ id, deliveryAttempt: 1 });
      expect(seen[1]!.id).toBe(id);
      expect(seen[1]!.deliveryAttempt).toBeGreaterThan(1);
      expect(seen[1]!.data).toEqual(fleetEvent('vm-flaky'));
      // Acked the second time: it does not come back.
      await sleep(ACK_DEADLINE_MS * 2);
      expect(seen).toHaveLength(2);
    });

    it('does not redeliver an acked message after the deadline, nor one whose handler is still running', async () => {
      const bus = await openBus();
      const counts = new Map<string, number>();
      let slowDone = false;
      const handler: BusHandler<'fleet'> = async (m) => {
        counts.set(m.data.name, (counts.get(m.data.name) ?? 0) + 1);
        if (m.data.name === 'slow') {
          await sleep(ACK_DEADLINE_MS * 2.5);
          slowDone = true;
        }
      };
      // Two subscribers in the group: a lease that lapsed would hand the slow message to the other.
      await bus.subscribe('fleet', 'leases', handler, { ackDeadlineMs: ACK_DEADLINE_MS });
      await bus.subscribe('fleet', 'leases', handler, { ackDeadlineMs: ACK_DEADLINE_MS });
      await bus.publish('fleet', fleetEvent('quick'));
      await bus.publish('fleet', fleetEvent('slow'));
      await waitFor(() => slowDone, 10_000);
      await sleep(ACK_DEADLINE_MS * 1.5);
      expect(counts.get('quick')).toBe(1);
      expect(counts.get('slow')).toBe(1);
    });

    it('close() waits for handlers in flight, is safe to call twice, and stops delivery', async () => {
      const bus = await openBus();
      let started = 0;
      let finished = 0;
      const first = await bus.subscribe(
        'fleet',
        'closing',
        async () => {
          started++;
          await sleep(300);
          finished++;
        },
        { ackDeadlineMs: ACK_DEADLINE_MS },
      );
      await bus.publish('fleet', fleetEvent('in-flight'));
      await waitFor(() => started === 1);
      await Promise.all([first.close(), first.close()]);
      expect(finished).toBe(1);
      await first.close();

      // Nothing reaches the closed subscriber; the group keeps the message for the next one.
      await bus.publish('fleet', fleetEvent('after-close'));
      await sleep(500);
      expect(started).toBe(1);
      const next = recorder<'fleet'>();
      await bus.subscribe('fleet', 'closing', next.handler, { ackDeadlineMs: ACK_DEADLINE_MS });
      await waitFor(() => next.msgs.length >= 1);
      // The in-flight message was acked during close(): it is not redelivered after the deadline.
      await sleep(ACK_DEADLINE_MS * 1.5);
      expect(next.msgs.map((m) => m.data.name)).toEqual(['after-close']);
      expect(started).toBe(1);

      await Promise.all([bus.close(), bus.close()]);
      await bus.close();
      const published = bus.publish('fleet', fleetEvent('too-late'));
      await expect(published).rejects.toSatisfy(isKumoError);
      await expect(bus.subscribe('fleet', 'closing', next.handler)).rejects.toSatisfy(isKumoError);
    });

    it('never runs more handlers at once than the concurrency allows', async () => {
      const bus = await openBus();
      let active = 0;
      let peak = 0;
      let done = 0;
      await bus.subscribe(
        'fleet',
        'bounded',
        async () => {
          active++;
          peak = Math.max(peak, active);
          await sleep(60);
          active--;
          done++;
        },
        { concurrency: 3, ackDeadlineMs: ACK_DEADLINE_MS },
      );
      await Promise.all(range(24).map((i) => bus.publish('fleet', fleetEvent(`vm-${i}`))));
      await waitFor(() => done >= 24, 15_000);
      expect(peak).toBeLessThanOrEqual(3);
      // And the limit is used, not undercut: with 24 queued, several ran side by side.
      expect(peak).toBeGreaterThanOrEqual(2);
    });

    it('delivers 2,000 messages exactly once per group (after dedupe by id where the transport may repeat)', async () => {
      const bus = await openBus();
      const groupA1 = recorder<'progress'>();
      const groupA2 = recorder<'progress'>();
      const groupB = recorder<'progress'>();
      const sub = { concurrency: 32, ackDeadlineMs: 5000 };
      await bus.subscribe('progress', 'ingest', groupA1.handler, sub);
      await bus.subscribe('progress', 'ingest', groupA2.handler, sub);
      await bus.subscribe('progress', 'mirror', groupB.handler, sub);
      const ids: string[] = [];
      for (let start = 0; start < 2000; start += 250) {
        ids.push(...(await Promise.all(range(250).map((i) => bus.publish('progress', progressBatch(start + i))))));
      }
      expect(new Set(ids).size).toBe(2000);
      const groupA = (): BusMessage<'progress'>[] => [...groupA1.msgs, ...groupA2.msgs];
      await waitFor(() => unique(groupA()).size === 2000 && unique(groupB.msgs).size === 2000, 20_000);
      expect(unique(groupA())).toEqual(new Set(ids));
      expect(unique(groupB.msgs)).toEqual(new Set(ids));
      // Each delivery carries the data published under its id.
      for (const m of groupB.msgs) expect(m.data.events[0]!.i).toBe(Number(m.data.workerId.slice(2)));
      if (!opts.mayDuplicate) {
        expect(groupA()).toHaveLength(2000);
        expect(groupB.msgs).toHaveLength(2000);
      }
    });
  });
}

export function recorder<T extends Topic>(delayMs = 0): { msgs: BusMessage<T>[]; handler: BusHandler<T> } {
  const msgs: BusMessage<T>[] = [];
  return {
    msgs,
    handler: async (m) => {
      msgs.push(m);
      if (delayMs) await sleep(delayMs);
    },
  };
}

export function unique(msgs: BusMessage[]): Set<string> {
  return new Set(msgs.map((m) => m.id));
}

export function fleetEvent(name: string): FleetEvent {
  return { type: 'vm', name, pool: 'a100', state: 'running', zone: 'us-central1-a', at: 1_700_000_000_000 };
}

function deleteCommand(i: number): ProvisionCommand {
  return { type: 'delete', pool: 'a100', name: `vm-${i}`, reason: 'scale-down' };
}

export function progressBatch(i: number): {
  workerId: string;
  events: [{ t: 'ok'; j: string; i: number; a: number; w: string; at: number }];
} {
  return { workerId: `w-${i}`, events: [{ t: 'ok', j: 'job_1', i, a: 1, w: `w-${i}`, at: 1_700_000_000_000 + i }] };
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}
