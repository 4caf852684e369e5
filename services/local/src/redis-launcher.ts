import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, generateSecret, KumoError, type Logger } from '@kumo/shared';

export interface LaunchedRedis {
  url: string;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** kumo's own Redis's password: made once, kept in `<dataDir>/redis-password` (mode 600) for redis-cli -a. */
function redisPassword(dataDir: string): string {
  const file = join(dataDir, 'redis-password');
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const saved = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{16,}$/.test(saved)) return saved;
  }
  const password = generateSecret();
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * The local default: kumo's own redis-server, data under `<dataDir>/redis` with AOF on (fsync every
 * second: a crash loses at most about a second of acknowledged writes), eviction off. A server left
 * running by a control plane that was killed is stopped first (its data is in the same AOF).
 */
export async function launchRedis(dataDir: string, logger: Logger): Promise<LaunchedRedis> {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) {
    throw new KumoError(
      'REDIS_BINARY_MISSING',
      'redis-server was not found on PATH: install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL',
    );
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The data folder holds secrets as root-only files; tasks may pass through it to a folder kumo made
  // for them (0711), but not list it. Redis's own folder (its AOF is every record) is closed to them.
  chmodSync(dataDir, 0o711);
  chmodSync(dir, 0o700);
  const password = redisPassword(dataDir);
  const pidFile = join(dataDir, 'redis.pid');
  if (existsSync(pidFile)) {
    const old = Number(readFileSync(pidFile, 'utf8'));
    if (old > 0 && alive(old)) {
      logger.warn({ pid: old }, 'stopping a redis-server left by an earlier run');
      process.kill(old, 'SIGTERM');
      for (let i = 0; i < 100 && alive(old); i++) await new Promise((r) => setTimeout(r, 100));
    }
  }
  const port = await freePort();
  // The password goes in a root-only config file, never on the command line (every process can read
  // every other's command line).
  const conf = join(dir, 'redis.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir "${dir}"`,
      'appendonly yes',
      'appendfsync everysec',
      'save ""',
      'maxmemory-policy noeviction',
      'daemonize no',
      `requirepass ${password}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(conf, 0o600);
  const child: ChildProcess = spawn(
    bin,
    [conf],
    // Its own process group: a Ctrl-C in the terminal signals the whole foreground group, and Redis
    // must outlive the control plane's drain (workers flush their outcomes into it); stop() ends it last.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) resolve();
    };
    child.stdout?.on('data', onData);
    child.once('error', (err) =>
      reject(new KumoError('REDIS_BINARY_MISSING', `cannot start redis-server: ${err.message}`)),
    );
    child.once('exit', (code) =>
      reject(
        new KumoError(
          'CONFIG_INVALID',
          `redis-server exited with code ${code}: ${out.split('\n').slice(-5).join(' ')}`,
        ),
      ),
    );
  });
  child.stdout?.resume();
  writeFileSync(pidFile, String(child.pid));
  logger.info({ port, dir, pid: child.pid }, 'redis-server started (AOF on)');
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM'); // redis flushes the AOF on SIGTERM
      await exited;
      rmSync(pidFile, { force: true });
    },
  };
}
