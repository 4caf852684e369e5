import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { processExited } from '../support/control-plane-process';
import { deleteKeys, testPrefix } from '../support/prefix';
import { waitFor } from '../support/wait';

const WORKER_MAIN = fileURLToPath(new URL('../../services/worker/src/main.ts', import.meta.url));

/**
 * A parent (as the local fleet is) that starts a worker over IPC and dies at once: the worker's channel
 * closes while it is still loading and connecting, before a late listener could hear it.
 */
const PARENT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['--import', 'tsx', process.argv[1]], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], detached: true, env: process.env });
console.log(child.pid);
process.exit(0);
`;

describe('a worker whose parent dies while it starts', () => {
  const prefix = testPrefix('orphan');
  let pid = 0;
  afterAll(async () => {
    if (pid && !processExited(pid)) process.kill(pid, 'SIGKILL');
    await deleteKeys(prefix);
  });

  it('leaves instead of running on, parentless, with nobody to stop it', async () => {
    const r = spawnSync(process.execPath, ['-e', PARENT, WORKER_MAIN], {
      encoding: 'utf8',
      env: {
        ...process.env,
        REDIS_URL: inject('redisUrl'),
        KUMO_PREFIX: prefix,
        KUMO_POOL: 'local',
        KUMO_WORKER_NAME: `orphan-${prefix}`,
        LOG_LEVEL: 'warn',
      },
    });
    expect(r.status).toBe(0);
    pid = Number(r.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    await waitFor(async () => processExited(pid) || undefined, {
      timeoutMs: 20_000,
      what: 'the orphaned worker to exit',
    });
  });
});
