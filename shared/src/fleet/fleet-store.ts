import type { Redis } from 'ioredis';
import { wallClock, type Clock } from '../clock';
import { Keys } from '../store/keys';
import { bindScripts, type ScriptRunner } from '../store/scripts';
import { LIVE_VM_STATES, VM_TRANSITIONS, type VmState } from './vm';

export interface VmRecord {
  name: string;
  pool: string;
  state: VmState;
  zone?: string;
  reason?: string;
  requestId?: string;
  spot?: boolean;
  createdAt: number;
  stateAt: number;
}

/** The one place a VM record's state moves (through the moveVm script and VM_TRANSITIONS). */
export class FleetStore {
  private readonly keys: Keys;
  private readonly scripts: ScriptRunner;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; clock?: Clock } = {},
  ) {
    this.keys = new Keys(opts.prefix);
    this.scripts = bindScripts(redis);
    this.clock = opts.clock ?? wallClock;
  }

  /** Returns whether the record moved; a repeat or an out-of-order event is a no-op, not an error. */
  async move(name: string, pool: string, to: VmState, extra: Record<string, string | number | undefined> = {}): Promise<{ moved: boolean; from?: VmState }> {
    const from = (Object.keys(VM_TRANSITIONS) as VmState[]).filter((s) => VM_TRANSITIONS[s].includes(to));
    const fields: (string | number)[] = ['pool', pool];
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) fields.push(k, v);
    const res = (await this.scripts.moveVm(
      [this.keys.vm(name), this.keys.poolVms(pool)],
      [name, to, from.join(','), this.clock.now(), LIVE_VM_STATES.includes(to) ? '0' : '1', ...fields],
    )) as [number, string?];
    if (res[0] === -1) return { moved: false };
    return { moved: res[0] === 1, ...(res[1] ? { from: res[1] as VmState } : {}) };
  }

  async get(name: string): Promise<VmRecord | undefined> {
    const h = await this.redis.hgetall(this.keys.vm(name));
    return h.state ? toVm(name, h) : undefined;
  }

  /** The pool's live VMs (requested, provisioning, running, stopping). */
  async live(pool: string): Promise<VmRecord[]> {
    const names = await this.redis.smembers(this.keys.poolVms(pool));
    if (names.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const n of names) pipe.hgetall(this.keys.vm(n));
    const res = (await pipe.exec()) ?? [];
    const out: VmRecord[] = [];
    names.forEach((n, i) => {
      const h = res[i]?.[1] as Record<string, string> | undefined;
      if (h?.state) out.push(toVm(n, h));
    });
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }
}

function toVm(name: string, h: Record<string, string>): VmRecord {
  return {
    name,
    pool: h.pool ?? '',
    state: h.state as VmState,
    ...(h.zone ? { zone: h.zone } : {}),
    ...(h.reason ? { reason: h.reason } : {}),
    ...(h.requestId ? { requestId: h.requestId } : {}),
    ...(h.spot ? { spot: h.spot === '1' } : {}),
    createdAt: Number(h.createdAt ?? 0),
    stateAt: Number(h.stateAt ?? 0),
  };
}
