import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_STARTUP_SCRIPT_PATH } from '@kumo/provisioner';
import { startBootServer, type BootServer } from './boot-server';

/**
 * The worker VM's startup script, sourced (so only its functions are defined) and one function run
 * against local stand-ins for the metadata server and Secret Manager. `curl` and `logger` are shims
 * first in PATH that record their arguments and messages: what every user of the VM could see in
 * /proc/<pid>/cmdline and in the journal.
 */
const PROJECT = 'kumo-test';
const PASSWORD = 'mem0rystore-auth-8f2c';
const REDIS_URL = `redis://:${PASSWORD}@10.0.0.3:6379`;
const WORKER_TOKEN = 'kwt_a100-spot_Zx9Q2hY7rT0pL4sN8mK3';
const REDIS_SECRET = `projects/${PROJECT}/secrets/kumo-redis-url`;
const TOKEN_SECRET = `projects/${PROJECT}/secrets/kumo-worker-token-a100-spot`;
const SCRIPT = readFileSync(WORKER_STARTUP_SCRIPT_PATH, 'utf8');
const CONTROL_PLANE_SCRIPT = join(dirname(WORKER_STARTUP_SCRIPT_PATH), '../../../../infra/control-plane-startup.sh');

let work: string;
let shims: string;
let boot: BootServer;

interface Run {
  code: number;
  output: string;
  /** Every curl command line and every logger message of the run. */
  argv: string;
  logged: string;
}

function shim(name: string, body: string): void {
  writeFileSync(join(shims, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(shims, name), 0o755);
}

/** Sources the script in bash and runs `call` (e.g. `write_env`), with PATH = shims + `path`. */
function run(
  call: string,
  env: Record<string, string> = {},
  path = process.env.PATH ?? '',
  script = WORKER_STARTUP_SCRIPT_PATH,
): Promise<Run> {
  for (const f of ['curl-argv', 'logger']) rmSync(join(work, f), { force: true });
  return new Promise((resolve) => {
    execFile(
      '/bin/bash',
      ['--norc', '--noprofile', '-c', `source "$1"; ${call}`, 'bash', script],
      {
        env: {
          PATH: `${shims}:${path}`,
          SHIM_LOG: work,
          KUMO_STARTUP_METADATA_ROOT: boot.metadataRoot,
          KUMO_STARTUP_SECRET_MANAGER: boot.secretManager,
          KUMO_STARTUP_ENV_DIR: join(work, 'etc-kumo'),
          ...env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const read = (f: string): string => (existsSync(join(work, f)) ? readFileSync(join(work, f), 'utf8') : '');
        resolve({
          code: err ? Number((err as { code?: number }).code ?? 1) : 0,
          output: stdout + stderr,
          argv: read('curl-argv'),
          logged: read('logger'),
        });
      },
    );
  });
}

async function withBoot(attributes: Record<string, string>, secrets: Record<string, string>): Promise<void> {
  await boot?.close();
  boot = await startBootServer({
    project: PROJECT,
    name: 'kumo-a100-spot-1a2b',
    zone: 'us-central1-a',
    attributes,
    secrets,
  });
}

const ATTRIBUTES = {
  'kumo-pool': 'a100-spot',
  'kumo-slots': '1',
  'kumo-control-url': 'http://10.10.0.2:8080',
  'kumo-redis-url-secret': REDIS_SECRET,
  'kumo-worker-token-secret': 'kumo-worker-token-a100-spot',
  // A task's try at smuggling a Redis of its own in through the extra lines: never written.
  'kumo-extra-env': 'KUMO_BUS=pubsub\nKUMO_PREFIX=kumo\nREDIS_URL=redis://evil:6379\nKUMO_WORKER_TOKEN=nope',
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kumo-startup-'));
  shims = join(work, 'bin');
  mkdirSync(shims);
  const curl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].find((p) => existsSync(p));
  if (!curl) throw new Error('curl is not installed: the worker startup script needs it');
  shim('curl', `printf '%s\\n' "$*" >>"$SHIM_LOG/curl-argv"\nexec ${curl} "$@"`);
  shim('logger', `shift 3; printf '%s\\n' "$*" >>"$SHIM_LOG/logger"`);
});

afterEach(() => rmSync(join(work, 'etc-kumo'), { recursive: true, force: true }));

afterAll(async () => {
  await boot?.close();
  rmSync(work, { recursive: true, force: true });
});

/** The script writes root-owned files, as on a VM; CI runs as root. */
const asRoot = it.skipIf(process.getuid?.() !== 0);

describe('worker-startup.sh', () => {
  asRoot(
    'writes worker.env 0600 in a 0700 root directory, with the Redis URL and worker token read from Secret Manager, and shows neither anywhere',
    async () => {
      await withBoot(ATTRIBUTES, { [REDIS_SECRET]: REDIS_URL, [TOKEN_SECRET]: `${WORKER_TOKEN}\n` });
      // A directory left by an older script (0750 root:kumo) is tightened, not trusted.
      mkdirSync(join(work, 'etc-kumo'), { mode: 0o755 });
      boot.failNext(503); // Secret Manager hiccups once: the script asks again.
      const r = await run('write_env');
      expect(r.output).not.toContain('not a Secret Manager');
      expect(r.code, r.output).toBe(0);

      const dir = statSync(join(work, 'etc-kumo'));
      expect(dir.mode & 0o7777).toBe(0o700);
      expect([dir.uid, dir.gid]).toEqual([0, 0]);
      const file = statSync(join(work, 'etc-kumo/worker.env'));
      expect(file.mode & 0o7777).toBe(0o600);
      expect([file.uid, file.gid]).toEqual([0, 0]);
      expect(existsSync(join(work, 'etc-kumo/worker.env.new'))).toBe(false);

      const lines = readFileSync(join(work, 'etc-kumo/worker.env'), 'utf8').trimEnd().split('\n');
      const env = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(env).toMatchObject({
        REDIS_URL,
        KUMO_WORKER_TOKEN: WORKER_TOKEN,
        KUMO_POOL: 'a100-spot',
        KUMO_CONTROL_URL: 'http://10.10.0.2:8080',
        KUMO_WORKER_NAME: 'kumo-a100-spot-1a2b',
        KUMO_ZONE: 'us-central1-a',
        GOOGLE_CLOUD_PROJECT: PROJECT,
        KUMO_ON_GCE: '1',
        KUMO_BUS: 'pubsub',
      });
      expect(lines.filter((l) => l.startsWith('REDIS_URL='))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('KUMO_WORKER_TOKEN='))).toHaveLength(1);

      // Both secrets through the REST API with the VM's token (the first asked twice: the 503); a short
      // id resolves in the VM's project.
      expect(boot.accesses.every((a) => a.authorized)).toBe(true);
      expect(boot.accesses.map((a) => a.resource)).toEqual(
        [REDIS_SECRET, REDIS_SECRET, TOKEN_SECRET].map((s) => `${s}/versions/latest`),
      );
      // No secret and no access token in the console output, the journal or a command line.
      for (const secret of [REDIS_URL, 'mem0rystore-auth-8f2c', WORKER_TOKEN, boot.accessToken]) {
        expect(r.output).not.toContain(secret);
        expect(r.logged).not.toContain(secret);
        expect(r.argv).not.toContain(secret);
      }
      expect(r.argv).toContain(':access');
    },
  );

  asRoot('stops, writing no env file, when a secret cannot be read or is not one line', async () => {
    await withBoot(ATTRIBUTES, { [REDIS_SECRET]: REDIS_URL });
    const missing = await run('write_env', { KUMO_STARTUP_SECRET_RETRY_MAX_S: '2' });
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain(`could not read ${TOKEN_SECRET}/versions/latest`);
    expect(existsSync(join(work, 'etc-kumo/worker.env'))).toBe(false);
    expect(missing.output + missing.logged + missing.argv).not.toContain('mem0rystore-auth-8f2c');

    await withBoot(ATTRIBUTES, { [REDIS_SECRET]: `${REDIS_URL}\nKUMO_ADMIN=1`, [TOKEN_SECRET]: WORKER_TOKEN });
    const twoLines = await run('write_env');
    expect(twoLines.code).not.toBe(0);
    expect(twoLines.output).toContain('holds whitespace');
    expect(existsSync(join(work, 'etc-kumo/worker.env'))).toBe(false);
  });

  asRoot('reads no secret from metadata: a VM whose metadata names no secret does not start a worker', async () => {
    await withBoot(
      { 'kumo-pool': 'a100-spot', 'kumo-slots': '1', 'kumo-redis-url': REDIS_URL, 'kumo-worker-token': WORKER_TOKEN },
      {},
    );
    const r = await run('write_env');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('ignoring kumo-redis-url / kumo-worker-token metadata');
    expect(existsSync(join(work, 'etc-kumo/worker.env'))).toBe(false);
    expect(r.output).not.toContain('mem0rystore-auth-8f2c');
  });

  it('installs iptables and util-linux when the image lacks them, and refuses to go on without them', async () => {
    await withBoot(ATTRIBUTES, {});
    shim('apt-get', `printf '%s\\n' "$*" >>"$SHIM_LOG/apt-get"`);
    // PATH holds the shims alone: no iptables, unshare or setpriv.
    const r = await run('ensure_tools', {}, '/nonexistent');
    expect(r.code).not.toBe(0);
    expect(readFileSync(join(work, 'apt-get'), 'utf8')).toContain('install -y -q iptables util-linux');
    expect(r.output).toContain('the worker cannot isolate tasks; not starting it');
  });

  it('runs the agent as root, and puts no account in the docker group', async () => {
    await withBoot(ATTRIBUTES, {});
    const unit = (await run('unit_text')).output;
    expect(unit).toMatch(/^User=root$/m);
    expect(unit).not.toMatch(/^(User|Group)=kumo$/m);
    expect(unit).toContain('EnvironmentFile=');
    expect(unit).toContain('TimeoutStopSec=25');
    // Nothing adds anyone to docker; a kumo user left in it by an older script is taken out.
    expect(SCRIPT).not.toMatch(/usermod[^\n]*docker|adduser[^\n]*docker|gpasswd -a/);
    expect(SCRIPT).toContain('gpasswd -d kumo docker');
    expect(SCRIPT).not.toMatch(/attribute kumo-(redis-url|worker-token)\)"?$/m);
  });

  it("the control plane's startup script reads REDIS_URL from Secret Manager the same way, token off the command line", async () => {
    await withBoot({}, { [REDIS_SECRET]: REDIS_URL });
    const r = await run(`secret_value ${REDIS_SECRET}`, {}, process.env.PATH ?? '', CONTROL_PLANE_SCRIPT);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toBe(REDIS_URL);
    expect(boot.accesses).toEqual([{ resource: `${REDIS_SECRET}/versions/latest`, authorized: true }]);
    expect(r.argv + r.logged).not.toContain(boot.accessToken);
    expect(r.argv + r.logged).not.toContain(PASSWORD);
  });
});
