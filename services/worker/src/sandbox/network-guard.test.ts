import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger, wallClock } from '@kumo/shared';
import { taskHost } from '../../../../test/support/task-host';
import { runTask } from '../task-runner';
import { metadataEndpoint, NetworkGuard, redisEndpoint } from './network-guard';
import { DEFAULT_SANDBOX_SETTINGS } from './task-sandbox';

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => {
      s.on('error', () => undefined); // the task may hang up first
      s.end('hello\n');
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/** What a task sees when it connects to 127.0.0.1:port: 'hello' or the error's name. */
async function taskConnects(port: number): Promise<string> {
  const code = `import socket\ntry:\n  s=socket.create_connection(('127.0.0.1', ${port}), timeout=5); print('::kumo::result {"got": "%s"}' % s.recv(5).decode())\nexcept Exception as e:\n  print('::kumo::result {"got": "%s"}' % type(e).__name__)`;
  const out = await runTask({
    run: { command: ['python3', '-c', code] },
    env: { PATH: process.env.PATH ?? '', KUMO_JOB_ID: `job-net-${port}` },
    timeoutMs: 20_000,
    signal: new AbortController().signal,
    clock: wallClock,
    sandbox: taskHost().sandbox,
  });
  return String((out.result as { got: string }).got);
}

describe('NetworkGuard (iptables, as root)', () => {
  it('keeps tasks away from a guarded endpoint, not from the rest of the network, and leaves no rule behind', async () => {
    const guardedServer = await listen();
    const openServer = await listen();
    const guard = new NetworkGuard({
      workerName: `guard-test-${process.pid}`,
      uidFirst: DEFAULT_SANDBOX_SETTINGS.uidBase,
      uidLast: DEFAULT_SANDBOX_SETTINGS.uidBase + DEFAULT_SANDBOX_SETTINGS.uidSpan - 1,
      logger: createLogger({ name: 'test', level: 'silent' }),
    });
    try {
      await guard.install([redisEndpoint(`redis://:pw@127.0.0.1:${guardedServer.port}`)]);
      expect(await taskConnects(guardedServer.port)).toBe('ConnectionRefusedError');
      expect(await taskConnects(openServer.port)).toBe('hello');
      // A worker of the same name that was killed -9 and started again clears what the first one left.
      const rules = () =>
        spawnSync('iptables', ['-w', '-S', 'OUTPUT'], { encoding: 'utf8' })
          .stdout.split('\n')
          .filter((l) => l.includes(`guard-test-${process.pid}"`));
      const restarted = new NetworkGuard({
        workerName: `guard-test-${process.pid}`,
        uidFirst: 1_000_000,
        uidLast: 1_000_001,
        logger: createLogger({ name: 'test', level: 'silent' }),
      });
      await restarted.install([redisEndpoint(`redis://127.0.0.1:${guardedServer.port}`)]);
      expect(rules()).toHaveLength(1);
      expect(rules()[0]).toContain('1000000-1000001');
      restarted.remove();
      guard.remove();
      expect(spawnSync('iptables', ['-w', '-S', 'OUTPUT'], { encoding: 'utf8' }).stdout).not.toContain(
        `guard-test-${process.pid}`,
      );
      expect(await taskConnects(guardedServer.port)).toBe('hello');
    } finally {
      guard.remove();
      guardedServer.server.close();
      openServer.server.close();
    }
  });
});

describe("NetworkGuard and docker's bridge", () => {
  it("also rejects containers' forwarded traffic to the metadata server (DOCKER-USER), and takes it back", async () => {
    const made = spawnSync('iptables', ['-w', '-N', 'DOCKER-USER']).status === 0;
    const name = `guard-docker-${process.pid}`;
    const rules = () =>
      spawnSync('iptables', ['-w', '-S', 'DOCKER-USER'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l.includes(`${name}"`));
    const guard = new NetworkGuard({
      workerName: name,
      uidFirst: 1_000_000,
      uidLast: 1_000_001,
      logger: createLogger({ name: 'test', level: 'silent' }),
    });
    try {
      await guard.install([metadataEndpoint('http://169.254.169.254')]);
      expect(rules()).toHaveLength(1);
      expect(rules()[0]).toContain('-d 169.254.169.254/32');
      guard.remove();
      expect(rules()).toHaveLength(0);
    } finally {
      guard.remove();
      if (made) spawnSync('iptables', ['-w', '-X', 'DOCKER-USER']);
    }
  });
});
