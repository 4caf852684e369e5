import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { type ControlPlane, type ControlPlaneOptions, startControlPlane } from '@kumo/local';
import { createLogger } from '@kumo/shared';
import { client } from './http';
import { testPrefix, deleteKeys } from './prefix';

export interface TestControlPlane {
  cp: ControlPlane;
  api: ReturnType<typeof client>;
  prefix: string;
  token: string;
  /** Stops the control plane (its workers too) and deletes every key under its prefix. */
  stop(): Promise<void>;
}

/**
 * The whole control plane in this process, on the test run's Redis under a prefix of its own, with
 * local worker processes, listening on a free port; quiet logs unless LOG_LEVEL says otherwise.
 * `opts` override any of that; `workerEnv` adds to the workers' quiet LOG_LEVEL. Its data folder is a
 * fresh temporary one unless `opts.dataDir` names one (a test that keeps its own files in a folder
 * it removes afterwards passes that, so nothing is left behind).
 */
export async function startTestControlPlane(
  name: string,
  opts: Partial<ControlPlaneOptions> = {},
): Promise<TestControlPlane> {
  const prefix = testPrefix(name);
  const token = `${name}-admin-token-0123456789`;
  const cp = await startControlPlane({
    host: '127.0.0.1',
    port: 0,
    adminToken: token,
    redisUrl: inject('redisUrl'),
    prefix,
    logger: createLogger({ name, level: process.env.LOG_LEVEL ?? 'warn' }),
    cloud: { bus: 'redis', provider: 'local' },
    // The test run's own environment, as `npm start` passes its own: workers start from it.
    inheritedEnv: process.env,
    ...opts,
    dataDir: opts.dataDir ?? mkdtempSync(join(tmpdir(), `kumo-${name}-`)),
    workerEnv: { LOG_LEVEL: 'warn', ...opts.workerEnv },
  });
  return {
    cp,
    api: client(cp.url, token),
    prefix,
    token,
    stop: async () => {
      await cp.stop();
      await deleteKeys(prefix);
    },
  };
}

/**
 * A pool no kumo worker serves (max 0 VMs): only HTTPS workers, or a worker a test starts by hand, take its
 * tasks, so which worker runs a task is the test's choice.
 */
export const WORKERLESS_POOL = {
  machineType: 'local',
  gpu: { type: 'none', count: 0 },
  spot: false,
  zones: ['local'],
  min: 0,
  max: 0,
};
