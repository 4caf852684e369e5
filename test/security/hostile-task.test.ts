import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore, LOCAL_POOL_DEFAULTS, logSegments, readSegments } from '@kumo/shared';
import { stopProcess } from '../support/control-plane-process';
import { client } from '../support/http';
import { freePort } from '../support/redis-server';
import { waitFor } from '../support/wait';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(REPO, 'test/security/hostile-task.py');
const CONTROL_PLANE = join(REPO, 'services/local/src/main.ts');
const WORKER = join(REPO, 'services/worker/src/main.ts');
const METADATA_TOKEN = `ya29.metadata-secret-${process.pid}-0123456789`;

/** A node process with its output kept (everything it printed is searched for secrets). */
function start(
  main: string,
  env: Record<string, string>,
  upWhen?: string,
): Promise<{ proc: ChildProcess; output: () => string }> {
  const clean = { ...process.env };
  delete clean.REDIS_URL;
  const proc = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: REPO,
    env: { ...clean, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  if (!upWhen) return Promise.resolve({ proc, output: () => out });
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes(upWhen)) {
        clearInterval(t);
        resolve({ proc, output: () => out });
      }
    }, 50);
    proc.once('exit', (code) => {
      clearInterval(t);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
}

/** The GCE metadata server as a task would find it: `preempted` for the worker, a service account's token for anyone. */
async function fakeMetadata(): Promise<{ url: string; tokenRequests: () => number; close: () => Promise<void> }> {
  let tokenRequests = 0;
  const server = http.createServer((req, res) => {
    if (req.headers['metadata-flavor'] !== 'Google') return void res.writeHead(403).end();
    if (req.url?.startsWith('/computeMetadata/v1/instance/preempted'))
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('FALSE');
    if (req.url?.includes('/service-accounts/default/token')) {
      tokenRequests++;
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: METADATA_TOKEN, expires_in: 3599 }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tokenRequests: () => tokenRequests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/**
 * A submitter's task that tries everything (test/security/hostile-task.py), run the way production runs
 * it: under `npm start` with its own Redis (a password), on its local worker processes; on a worker run
 * as on a Compute Engine VM (root, KUMO_ON_GCE=1, a metadata server that hands out tokens, /etc/kumo);
 * and on a contributor's HTTPS worker. Nothing may leak, nothing may be written.
 */
describe('a hostile task, submitted by a submitter', () => {
  const root = mkdtempSync(join(tmpdir(), 'kumo-hostile-'));
  const dataDir = join(root, '.kumo');
  const ownEtcKumo = !existsSync('/etc/kumo');
  const procs: { proc: ChildProcess; output: () => string }[] = [];
  let metadata: Awaited<ReturnType<typeof fakeMetadata>>;
  let url: string;
  let secrets: Record<string, string>;
  let redisPort: number;
  let admin: ReturnType<typeof client>;
  let submitter: ReturnType<typeof client>;

  beforeAll(async () => {
    chmodSync(root, 0o755);
    metadata = await fakeMetadata();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const cp = await start(
      CONTROL_PLANE,
      {
        PORT: String(port),
        KUMO_DATA_DIR: dataDir,
        // Its workers' task logs (and the contributor's, written by the API): scanned for secrets below.
        KUMO_ARTIFACTS_DIR: join(root, 'artifacts'),
        KUMO_LOCAL_WORKERS: '1',
        KUMO_LOCAL_SLOTS: '2',
        KUMO_METADATA_URL: metadata.url,
        KUMO_PREFIX: 'kh',
      },
      'kumo is up',
    );
    procs.push(cp);
    const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const redisPassword = readFileSync(join(dataDir, 'redis-password'), 'utf8').trim();
    redisPort = Number(/^port (\d+)$/m.exec(readFileSync(join(dataDir, 'redis', 'redis.conf'), 'utf8'))![1]);
    admin = client(url, adminToken);
    const minted = async (body: object): Promise<string> => {
      const r = await admin.post('/v1/tokens', body);
      expect(r.status).toBe(201);
      return r.body.token as string;
    };
    submitter = client(url, await minted({ role: 'submitter', name: 'mallory' }));
    for (const pool of ['gce', 'contrib'])
      expect((await admin.put(`/v1/pools/${pool}`, { ...LOCAL_POOL_DEFAULTS, min: 0, max: 0 })).status).toBeLessThan(
        300,
      );
    const workerToken = await minted({ role: 'worker', name: 'contributor', pool: 'contrib' });
    const redisUrl = `redis://:${redisPassword}@127.0.0.1:${redisPort}`;
    secrets = { adminToken, redisPassword, workerToken, metadataToken: METADATA_TOKEN };
    if (ownEtcKumo) {
      mkdirSync('/etc/kumo', { mode: 0o700 });
      writeFileSync('/etc/kumo/worker.env', `REDIS_URL=${redisUrl}\nKUMO_WORKER_TOKEN=${workerToken}\n`, {
        mode: 0o600,
      });
    }
    // A worker as the VM's startup script runs it: root, on the VM's metadata server, Redis-side.
    procs.push(
      await start(
        WORKER,
        {
          REDIS_URL: redisUrl,
          KUMO_PREFIX: 'kh',
          KUMO_POOL: 'gce',
          KUMO_WORKER_NAME: `hostile-gce-${process.pid}`,
          KUMO_ON_GCE: '1',
          KUMO_METADATA_URL: metadata.url,
          // The folder npm start's API reads logs from: what the bucket is to a VM and the API on Google Cloud.
          KUMO_ARTIFACTS_DIR: join(root, 'artifacts'),
          KUMO_SLOTS: '1',
        },
        'worker started',
      ),
    );
    // A contributor's machine: HTTPS only, with its worker token.
    procs.push(
      await start(
        WORKER,
        {
          KUMO_WORKER_TOKEN: workerToken,
          KUMO_CONTROL_URL: url,
          KUMO_POOL: 'contrib',
          KUMO_WORKER_NAME: 'hostile-contrib',
          KUMO_METADATA_URL: metadata.url,
          KUMO_ARTIFACTS_DIR: join(root, 'contrib-artifacts'),
          KUMO_SLOTS: '1',
        },
        'worker started',
      ),
    );
  }, 120_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await stopProcess(p.proc);
    await metadata?.close();
    if (ownEtcKumo) rmSync('/etc/kumo', { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it.each(['local', 'gce', 'contrib'])(
    'on the %s worker: reads no secret, reaches neither Redis nor the metadata server, writes nothing',
    async (pool) => {
      const hints = { dataDir, repoDir: REPO, redisPort, metadataUrl: metadata.url, apiUrl: url };
      const sub = await submitter.post('/v1/jobs', {
        kind: 'extraction',
        name: `hostile-${pool}`,
        pool,
        source: { snapshot: 'S', batches: 1 },
        run: { command: ['python3', SCRIPT, JSON.stringify(hints)] },
      });
      expect(sub.status).toBe(201);
      const job = await waitFor(
        async () => {
          const j = (await admin.get(`/v1/jobs/${sub.body.id}`)).body;
          return ['succeeded', 'failed'].includes(j.state) ? j : undefined;
        },
        { timeoutMs: 90_000, what: `the hostile job on ${pool} to end` },
      );
      const results = await admin.get(`/v1/jobs/${sub.body.id}/results`);
      expect(job.state, JSON.stringify(job)).toBe('succeeded');
      const got = results.body.results[0].result as {
        found: { path: string; data: string }[];
        attempts: Record<string, string>;
      };

      // What it could read: nothing of the control plane's, nothing of the worker's. Its whole log is
      // among what is scanned (kept, and served by the API, whichever worker ran it).
      const logged = await fetch(`${url}/v1/jobs/${sub.body.id}/tasks/0/log`, {
        headers: { authorization: `Bearer ${secrets.adminToken}` },
      });
      expect(logged.status).toBe(200);
      const everything = [
        await logged.text(),
        JSON.stringify(job),
        JSON.stringify(results.body),
        JSON.stringify((await admin.get(`/v1/jobs/${sub.body.id}/tasks?state=erroring`)).body),
        // Every artifacts folder: npm start's (its workers' and the contributor's task logs), the VM's, the contributor's own.
        ...filesUnder(root)
          .filter((f) => f.includes('artifacts'))
          .map((f) => readFileSync(f, 'utf8')),
      ].join('\n');
      for (const [name, secret] of Object.entries(secrets))
        expect(everything.includes(secret), `${name} leaked`).toBe(false);
      expect(got.found.map((f) => f.path)).not.toContain(join(dataDir, 'admin-token'));
      expect(Number(got.attempts['visible pids'])).toBeLessThanOrEqual(3);
      expect(got.attempts['listdir dataDir']).toBe('denied');
      expect(got.attempts.groups).toBe('[]');
      // Redis: refused at the door (iptables) on the fleet's workers; never an OK for any candidate password.
      const redisAnswers = Object.entries(got.attempts).filter(([k]) => k.startsWith('redis with'));
      expect(redisAnswers.length).toBeGreaterThan(0);
      for (const [, answer] of redisAnswers) expect(answer).not.toContain('+OK');
      if (pool !== 'contrib') for (const [, answer] of redisAnswers) expect(answer).toBe('ConnectionRefusedError');
      expect(
        got.attempts[`metadata ${metadata.url}/computeMetadata/v1/instance/service-accounts/default/token`],
      ).not.toBe('answered');
      for (const [k, v] of Object.entries(got.attempts)) if (k.startsWith('write ')) expect(v, k).not.toBe('WROTE');
      expect(got.attempts['docker socket']).not.toBe('CONNECTED');
    },
  );

  // On the worker run as on a VM (the local workers run the same task attempt code, and keep their logs in the
  // repository's .kumo). Not on the contrib worker: its log goes through the API a 512 KiB PUT at a time, under
  // the token's rate limit (minutes for 600 MiB); its runner and writer are the ones tested in task-output.test.ts.
  it('600 MiB without a newline (past what a string can hold) neither kills the worker nor hides a result line after it', async () => {
    const resultLine = '\n::kumo::result {"after": "600 MiB"}\n';
    const sub = await submitter.post('/v1/jobs', {
      kind: 'extraction',
      name: 'no-newline',
      pool: 'gce',
      source: { snapshot: 'S', batches: 1 },
      run: {
        command: [
          'python3',
          '-c',
          `import os\nb = b'x' * (1 << 20)\nfor _ in range(600): os.write(1, b)\nos.write(1, ${JSON.stringify(resultLine)}.encode())`,
        ],
      },
    });
    expect(sub.status).toBe(201);
    const job = await waitFor(
      async () => {
        const j = (await admin.get(`/v1/jobs/${sub.body.id}`)).body;
        return ['succeeded', 'failed'].includes(j.state) ? j : undefined;
      },
      { timeoutMs: 90_000, what: 'the no-newline job to end' },
    );
    expect(job.state, JSON.stringify(job)).toBe('succeeded');
    expect(job.progress.failed).toBe(0);
    expect((await admin.get(`/v1/jobs/${sub.body.id}/results`)).body.results[0].result).toMatchObject({
      after: '600 MiB',
    });
    for (const p of procs) expect(p.proc.exitCode, p.output().slice(-2000)).toBeNull();
    // Its log, in the worker's artifacts folder: the tail (16 MiB) of the 600 MiB and the line after it, the head cut.
    const store = new LocalArtifactStore({ root: join(root, 'artifacts') });
    const segments = await logSegments(store, sub.body.id as string, 0, 1);
    const parts: Buffer[] = [];
    for await (const b of readSegments(store, segments, { reached: 0 })) parts.push(b);
    const log = Buffer.concat(parts).toString();
    const cut = /^\[kumo: (\d+) bytes of this log were cut here; [^\]]*\]\n/.exec(log);
    expect(cut, log.slice(0, 200)).not.toBeNull();
    const kept = log.slice(cut![0].length);
    expect(Number(cut![1]) + kept.length).toBe(600 * 1024 * 1024 + resultLine.length);
    expect(kept.endsWith(`xxxx${resultLine}`)).toBe(true);
  });

  it('nothing was written into Redis or the control plane, no metadata token was handed out, and no log shows a secret', async () => {
    const redis = new Redis({ port: redisPort, password: secrets.redisPassword });
    try {
      expect(await redis.keys('hostile:*')).toEqual([]);
    } finally {
      await redis.quit();
    }
    expect(metadata.tokenRequests()).toBe(0);
    expect(existsSync(join(dataDir, 'hostile'))).toBe(false);
    expect(existsSync(join(REPO, 'hostile-was-here'))).toBe(false);
    const logs = procs.map((p) => p.output()).join('\n');
    for (const [name, secret] of Object.entries(secrets)) {
      // The generated admin token is shown once, on purpose, in npm start's banner; nowhere else.
      const times = logs.split(secret).length - 1;
      expect(times, `${name} in the logs`).toBe(name === 'adminToken' ? 1 : 0);
    }
  });

  it('an image cannot carry docker options', async () => {
    for (const image of ['--privileged', '-v/:/host', 'ubuntu --pid=host']) {
      const r = await submitter.post('/v1/jobs', {
        kind: 'extraction',
        name: 'smuggle',
        pool: 'local',
        source: { snapshot: 'S', batches: 1 },
        run: { image },
      });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('INVALID_INPUT');
    }
  });
});
