import { freePort } from '@kumo/shared';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { freePort };

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A redis-server owned by the test run: its own port and folder, removed on stop. `appendonly` for the
 * tests that restart Redis and expect data to survive.
 */
export async function startTestRedis(
  opts: { appendonly?: boolean; dir?: string; port?: number; maxmemoryPolicy?: string } = {},
): Promise<TestRedis> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kumo-test-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--maxmemory-policy',
    opts.maxmemoryPolicy ?? 'noeviction',
  ];
  if (opts.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'everysec');
  else args.push('--appendonly', 'no');
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) resolve();
    };
    proc.stdout?.on('data', onData);
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  proc.stdout?.resume();
  const ownsDir = opts.dir === undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    process: proc,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
