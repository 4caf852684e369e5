import { expectOkAs } from '../api/client';
import type { PoolView } from '../api/types';
import { parseCommandArgs } from '../args';
import { EXIT } from '../exit-codes';
import { renderTable } from '../format/table';
import { writeJson, type Command } from './command';

const usage = 'kumo pools [--json]';

function row(p: PoolView): string[] {
  return [
    p.name,
    p.machineType,
    p.gpu.count > 0 ? `${p.gpu.count}x ${p.gpu.type}` : '-',
    p.spot ? 'spot' : 'standard',
    p.zones.join(','),
    `${p.min}..${p.max}`,
    // null until the autoscaler has looked at the pool once.
    p.status ? String(p.status.desired) : '-',
    String(p.vms.length),
    String(p.workers.length),
    p.status ? String(p.status.demand) : '-',
  ];
}

export const pools: Command = {
  name: 'pools',
  summary: 'worker pools: settings, VMs, workers and demand',
  usage,
  async run(ctx, argv) {
    const { values } = parseCommandArgs(argv, {
      options: { json: { type: 'boolean' } },
      positionals: { min: 0, max: 0 },
      usage,
    });
    const page = expectOkAs<{ pools: PoolView[] }>(await ctx.api.GET('/v1/pools'));
    if (values.json) writeJson(ctx, page);
    else if (page.pools.length === 0) ctx.stderr.write('no pools\n');
    else
      ctx.stdout.write(
        renderTable(
          ['NAME', 'MACHINE', 'GPU', 'PRICING', 'ZONES', 'MIN..MAX', 'DESIRED', 'VMS', 'WORKERS', 'DEMAND'],
          page.pools.map(row),
        ),
      );
    return EXIT.OK;
  },
};
