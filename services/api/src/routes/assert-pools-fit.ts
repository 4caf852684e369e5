import { gangOf, KumoError, type JobSpec, type PoolStore } from '@kumo/shared';

// Its own file: pipeline stages and rerun patches are checked against the pools as a submitted job is.
/**
 * What a spec asks of pools, checked before anything is made: the pools it names besides its own (its
 * own is checked by the job's creation), as a training job's `evaluate.pool`, whose evaluation jobs
 * could otherwise never start; and that a gang fits its pool whole and has no canary.
 */
export async function assertPoolsFit(pools: PoolStore, spec: JobSpec, path: (string | number)[] = []): Promise<void> {
  const evalPool = spec.kind === 'training' ? spec.evaluate?.pool : undefined;
  if (evalPool !== undefined && !(await pools.get(evalPool))) {
    throw new KumoError(
      'INVALID_INPUT',
      `pool '${evalPool}' does not exist; create it with PUT /v1/pools/${evalPool}`,
      {
        issues: [{ path: [...path, 'evaluate', 'pool'], message: `no pool named '${evalPool}'` }],
      },
    );
  }
  const gang = gangOf(spec);
  // A canary feeds the first N tasks alone; a gang's ranks only ever run all together.
  if (gang && spec.canary)
    throw new KumoError(
      'INVALID_INPUT',
      'a gang (nodes > 1) cannot have a canary: its ranks run all together or not at all',
      { issues: [{ path: [...path, 'canary'], message: 'not with nodes > 1' }] },
    );
  // A gang that its pool cannot hold whole would wait forever: each rank needs a VM of its own.
  const pool = gang ? await pools.get(spec.pool) : undefined;
  if (!gang || !pool) return;
  const why =
    pool.max < gang.size
      ? `its pool '${spec.pool}' has at most ${pool.max} VMs`
      : pool.slotsPerVm !== 1
        ? `its pool '${spec.pool}' runs ${pool.slotsPerVm} tasks per VM, and each rank needs a VM of its own (slotsPerVm 1)`
        : undefined;
  if (why)
    throw new KumoError('INVALID_INPUT', `a gang of ${gang.size} nodes cannot start: ${why}`, {
      issues: [{ path: [...path, 'nodes'], message: why }],
    });
}
