import { commandsRow } from './commands';
import {
  cores,
  kumoRound,
  rawLine,
  rawRound,
  type Cores,
  type E2eShape,
  type KumoRound,
  type RawRound,
} from './e2e-sides';
import { httpsE2e, type HttpsE2eResult } from './https-e2e';
import type { BenchContext } from './lib/context';
import { fmt, median, passIf, spread, type Row, type Spread } from './lib/report';

/**
 * Row 2 (and row 3's counts, and row 11): no-op tasks end to end. kumo: submit through the API, the
 * feeder tops the queue up, 2 in-process WorkerAgents x `slots` lease and run, outcomes go over the bus,
 * the ingester counts them exactly, the job succeeds. Timed from the submit's answer to state
 * `succeeded`. The baseline, raw BullMQ as a user lives it: one Worker with the same total concurrency
 * and a no-op processor already waiting, timed from the first addBulk to the last `completed`. For
 * information: the same jobs pre-added (timed from run()), added first and run after, and fed in a
 * window as kumo's feeder feeds. Row 11 runs the same job over the HTTPS lease API, in this run.
 *
 * One measurement of a side swung by half on this shared machine (the baseline 8,024/s, then 4,931/s
 * minutes later), so each side is measured in rounds taken in turn (raw, kumo, HTTPS, raw, ...): load
 * that comes and goes falls on every side alike, and each row reports medians with their spread.
 * Row 3 is a count, not a time: counted in the first round only.
 */
export async function e2e(ctx: BenchContext): Promise<Row[]> {
  const s: E2eShape = {
    tasks: ctx.quick ? 5_000 : 50_000,
    agents: 2,
    slots: 32,
    timeoutMs: ctx.quick ? 120_000 : 300_000,
  };
  const { tasks, agents, slots } = s;
  const rounds = ctx.quick ? 1 : 3;

  const raws: RawRound[] = [];
  const kumos: KumoRound[] = [];
  const httpss: HttpsE2eResult[] = [];
  for (let r = 0; r < rounds; r++) {
    const tag = `round ${r + 1}/${rounds}:`;
    const raw = await rawRound(ctx, s, r === 0);
    raws.push(raw);
    ctx.log(`${tag} ${rawLine(raw, tasks)}`);
    const kumo = await kumoRound(ctx, s, r === 0);
    kumos.push(kumo);
    ctx.log(
      `${tag} kumo: ${fmt.int(tasks)} tasks in ${fmt.ms(kumo.ms)} = ${fmt.int(kumo.rate)}/s` +
        (kumo.count ? `, ${kumo.count.perTask.toFixed(2)} commands/task` : '') +
        `; CPU node ${kumo.cpu.node.toFixed(2)}, redis ${kumo.cpu.redis.toFixed(2)} cores`,
    );
    const https = await httpsE2e(ctx, tasks, agents, slots, s.timeoutMs);
    httpss.push(https);
    ctx.log(
      `${tag} kumo over HTTPS: ${fmt.int(tasks)} tasks in ${fmt.ms(https.ms)} = ${fmt.int(https.rate)}/s (${https.byAgent.join(' + ')}); CPU node ${https.cpu.node.toFixed(2)}, redis ${https.cpu.redis.toFixed(2)} cores`,
    );
  }

  const kumo = spread(kumos.map((k) => k.rate));
  const added = spread(raws.map((r) => r.addedRate));
  const pre = spread(raws.map((r) => r.preRate));
  const then = spread(raws.map((r) => r.thenRate));
  const fed = spread(raws.map((r) => r.fedRate));
  const https = spread(httpss.map((h) => h.rate));
  const ratio = kumo.median / added.median;
  const httpsRatio = https.median / kumo.median;
  // Each round's own ratio (both sides from the same round): how far one round alone could have misled.
  const roundRatios = kumos.map((k, i) => k.rate / raws[i]!.addedRate);
  const httpsRoundRatios = httpss.map((h, i) => h.rate / kumos[i]!.rate);
  const kumoCpu = medianCores(kumos.map((k) => k.cpu));
  const rawCpu = medianCores(raws.map((r) => r.cpu));
  const httpsCpu = medianCores(httpss.map((h) => h.cpu));
  const window = slots * 32 * agents;
  const med = rounds > 1 ? ', medians' : '';
  const ofRounds = rounds === 1 ? '1 round' : `median of ${rounds} rounds`;
  const howMeasured =
    rounds === 1
      ? 'One round (--quick): each side measured once, no spread to show; a single round can mislead by half on a shared machine. '
      : `Medians of ${rounds} rounds, the sides measured in turn (raw, kumo, HTTPS, raw, ...) so load that comes and goes falls on each alike; ratios are of the medians. `;

  return [
    {
      n: 2,
      id: 'e2e',
      what: `End-to-end no-op tasks/s (${fmt.int(tasks)} tasks, ${agents * slots} slots, ${ofRounds})`,
      kumo: `${fmt.int(kumo.median)}/s`,
      baseline: `${fmt.int(added.median)}/s (raw BullMQ, first add to last completion; pre-added ${fmt.int(pre.median)}/s)`,
      ratio: `${fmt.x(ratio)} (of pre-added: ${fmt.x(kumo.median / pre.median)})`,
      target: '>= 0.8x raw',
      status: passIf(ratio >= 0.8),
      notes:
        howMeasured +
        (rounds > 1
          ? `Spread (min–max over the rounds): kumo ${range(kumo)}, raw first add to last completion ${range(added)}, pre-added ${range(pre)}; ` +
            `each round's own ratio (kumo / raw, same round) ${roundRatios.map(fmt.x).join(', ')}. `
          : '') +
        `kumo: submit through the API to state succeeded, ${agents} in-process WorkerAgents x ${slots} slots, scheduler (feeder, ingester, autoscaler) and API in the same process. ` +
        `Raw, the baseline: one Worker (concurrency ${agents * slots}, no-op processor) waiting, a producer in the same process adding all ${fmt.int(tasks)} jobs with addBulk (1,000 a call), timed from the first add to the last completed. ` +
        `For information${rounds > 1 ? ' (medians)' : ''}: pre-added (timed from run()) ${fmt.int(pre.median)}/s, kumo ${fmt.x(kumo.median / pre.median)} of that; added first (${fmt.ms(median(raws.map((r) => r.addMs)))}) and run after ${fmt.int(then.median)}/s, kumo ${fmt.x(kumo.median / then.median)}; ` +
        `fed in a window of ${fmt.int(window)} while processing, as kumo's feeder does, ${fmt.int(fed.median)}/s${rounds > 1 ? ` (${range(fed)})` : ''}, kumo ${fmt.x(kumo.median / fed.median)}. ` +
        `CPU in cores (node process / redis-server${med}): kumo ${cores(kumoCpu)}, raw pre-added ${cores(rawCpu)}.`,
      data: {
        tasks,
        agents,
        slots,
        rounds,
        kumoMs: median(kumos.map((k) => k.ms)),
        kumoRate: kumo.median,
        ratio,
        rawAddedMs: median(raws.map((r) => r.addedMs)),
        rawAddedRate: added.median,
        rawMs: median(raws.map((r) => r.preMs)),
        rawRate: pre.median,
        rawAddMs: median(raws.map((r) => r.addMs)),
        rawThenRate: then.median,
        rawFedMs: median(raws.map((r) => r.fedMs)),
        rawFedRate: fed.median,
        kumoCpu,
        rawCpu,
        spread: { kumoRate: kumo, rawAddedRate: added, rawRate: pre, rawThenRate: then, rawFedRate: fed },
        roundRatios,
      },
    },
    commandsRow(kumos[0]!.count!, raws[0]!.count!, tasks),
    {
      n: 11,
      id: 'e2e',
      what: `HTTPS workers: end-to-end no-op tasks/s over the lease API (${fmt.int(tasks)} tasks, ${agents * slots} slots, ${ofRounds})`,
      kumo: `${fmt.int(https.median)}/s`,
      baseline: `${fmt.int(kumo.median)}/s (kumo, Redis-side workers: row 2's, this run)`,
      ratio: fmt.x(httpsRatio),
      target: '>= 0.25x Redis-side',
      status: passIf(httpsRatio >= 0.25),
      notes:
        howMeasured +
        (rounds > 1
          ? `Spread (min–max over the rounds): HTTPS ${range(https)}, Redis-side ${range(kumo)}; each round's own ratio ${httpsRoundRatios.map(fmt.x).join(', ')}. `
          : '') +
        `The same job as row 2's kumo side, run by ${agents} in-process HttpWorkerAgents x ${slots} slots leasing, heartbeating and completing over HTTP on a loopback socket (plain HTTP: TLS not measured) through the API's lease broker; ` +
        `tasks per agent by round ${httpss.map((h) => h.byAgent.join(' / ')).join(', ')}. Agents, API and scheduler share this process, as row 2's agents do. CPU in cores (node process / redis-server${med}): ${cores(httpsCpu)}.`,
      data: {
        tasks,
        agents,
        slots,
        rounds,
        ms: median(httpss.map((h) => h.ms)),
        rate: https.median,
        redisSideRate: kumo.median,
        ratio: httpsRatio,
        cpu: httpsCpu,
        byAgent: httpss.map((h) => h.byAgent),
        spread: { rate: https, redisSideRate: kumo },
        roundRatios: httpsRoundRatios,
      },
    },
  ];
}

const range = (s: Spread): string => `${fmt.int(s.min)}–${fmt.int(s.max)}/s`;

const medianCores = (cs: Cores[]): Cores => ({
  node: median(cs.map((c) => c.node)),
  redis: median(cs.map((c) => c.redis)),
});
