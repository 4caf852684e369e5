import type { Redis } from 'ioredis';
import { wallClock, type Clock } from '../clock';
import { Keys } from '../store/keys';
import { storeScripts } from '../store/scripts';

/** One rank's run in a gang's current generation. */
export interface GangMember {
  rank: number;
  worker: string;
  /** Where peers reach the rank's VM (rank 0's is MASTER_ADDR). */
  addr: string;
  /** The queue lock token of the run: a new run of the same rank has another. */
  holder: string;
  at: number;
}

export interface GangView {
  gen: number;
  /** The current generation's ranks that joined, by rank. */
  members: GangMember[];
  /** Ranks already final (succeeded or failed for good): they never run again. */
  finished: number[];
}

/**
 * A gang training job's rendezvous in Redis (key: Keys.jobGang). Ranks join the generation now
 * forming, wait until every rank has joined it, and run. A generation ends when one of its ranks ends
 * any way but success (`breakGeneration`) or a lost rank's task runs again (`join` sees the rank held by
 * another run); its ranks are told to stop on the control channel (`{type: 'gang-stop', jobId, gen}`)
 * and the next generation forms from the ranks as they come back. Each change is one Lua script.
 */
export class GangStore {
  private readonly keys: Keys;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; clock?: Clock } = {},
  ) {
    this.keys = new Keys(opts.prefix);
    this.clock = opts.clock ?? wallClock;
  }

  /**
   * Joins the generation now forming: `joined`, `busy` (this worker already holds another of its
   * ranks) or `ended` (the job has ended: nothing to join).
   */
  async join(
    jobId: string,
    m: Pick<GangMember, 'rank' | 'worker' | 'addr' | 'holder'>,
  ): Promise<{ outcome: 'joined' | 'busy' | 'ended'; gen: number }> {
    const [ok, gen] = await storeScripts.joinGang.run(
      this.redis,
      { gang: this.keys.jobGang(jobId), job: this.keys.job(jobId) },
      [m.rank, m.worker, m.addr, m.holder, this.clock.now(), this.keys.controlChannel(), jobId],
    );
    return { outcome: ok === 1 ? 'joined' : ok === 0 ? 'busy' : 'ended', gen };
  }

  /** The generation now forming or running (what a running rank checks it still belongs to). */
  async generation(jobId: string): Promise<number | undefined> {
    const gen = await this.redis.hget(this.keys.jobGang(jobId), 'gen');
    return gen === null ? undefined : Number(gen);
  }

  /** The current generation, its ranks so far, and which of the gang's `size` ranks are final. */
  async view(jobId: string, size: number): Promise<GangView> {
    const pipe = this.redis.pipeline();
    pipe.hgetall(this.keys.jobGang(jobId));
    pipe.getrangeBuffer(this.keys.jobDone(jobId), 0, Math.ceil(size / 8) - 1);
    const [[, hash], [, done]] = (await pipe.exec()) as [[unknown, Record<string, string>], [unknown, Buffer | null]];
    const members: GangMember[] = [];
    for (const [field, value] of Object.entries(hash)) {
      if (!field.startsWith('r')) continue;
      members.push({ rank: Number(field.slice(1)), ...(JSON.parse(value) as Omit<GangMember, 'rank'>) });
    }
    members.sort((a, b) => a.rank - b.rank);
    const bits = done ?? Buffer.alloc(0);
    const finished: number[] = [];
    // The done bitmap is SETBIT's: bit i is the (7 - i % 8)th bit of byte i / 8, most significant first.
    for (let rank = 0; rank < size; rank++) if (((bits[rank >> 3] ?? 0) >> (7 - (rank & 7))) & 1) finished.push(rank);
    return { gen: Number(hash.gen ?? 0), members, finished };
  }

  /** Ends generation `gen` (a no-op if it has ended already) and tells its ranks to stop. */
  async breakGeneration(jobId: string, gen: number): Promise<boolean> {
    return storeScripts.breakGang.run(this.redis, { gang: this.keys.jobGang(jobId) }, [
      gen,
      this.keys.controlChannel(),
      jobId,
    ]);
  }

  /**
   * Takes back a rank's join: `left`; `moved-on` (that run no longer holds it); or `formed` (every rank
   * had joined meanwhile, so nothing was taken back).
   */
  async leave(jobId: string, rank: number, holder: string, size: number): Promise<'left' | 'moved-on' | 'formed'> {
    const r = await storeScripts.leaveGang.run(this.redis, { gang: this.keys.jobGang(jobId) }, [rank, holder, size]);
    return r === 1 ? 'left' : r === 2 ? 'formed' : 'moved-on';
  }
}
