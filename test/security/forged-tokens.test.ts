import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, parseApiEnv } from '@kumo/api';
import { LocalProvider } from '@kumo/provisioner';
import {
  createBus,
  createLogger,
  generateSecret,
  hashToken,
  LOCAL_POOL_DEFAULTS,
  PoolStore,
  poolSettingsSchema,
} from '@kumo/shared';
import { deleteKeys, testPrefix } from '../support/prefix';

const ADMIN = 'forged-tokens-admin-0123456789abcdef';
const KEY_A = 'signing-key-a-0123456789abcdef0123456789';
const KEY_B = 'signing-key-b-0123456789abcdef0123456789';

const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** An API on the test Redis under `prefix`, with every log line kept (warn and up) for the checks below. */
async function api(
  prefix: string,
  opts: { adminToken?: string; tokenSigningKey?: string } = {},
): Promise<{ app: FastifyInstance; logs: string[] }> {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ name: 'forged-tokens', level: 'warn', destination });
  const bus = await createBus({ kind: 'redis', redisUrl: inject('redisUrl'), prefix, logger });
  const app = await buildApp({
    redisUrl: inject('redisUrl'),
    prefix,
    bus,
    adminToken: opts.adminToken ?? ADMIN,
    ...(opts.tokenSigningKey ? { tokenSigningKey: opts.tokenSigningKey } : {}),
    logger,
    limits: { ratePerMinute: 0 },
  }).catch(async (err: unknown) => {
    await bus.close();
    throw err;
  });
  app.addHook('onClose', () => bus.close());
  await app.ready();
  return { app, logs };
}

async function mint(app: FastifyInstance, body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const res = await app.inject({ method: 'POST', url: '/v1/tokens', headers: auth(ADMIN), payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** What only an admin may do: the request a forged admin record is after. */
const mintWith = (app: FastifyInstance, token: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: auth(token),
    payload: { role: 'admin', name: 'escalated' },
  });

/**
 * Anyone who can write to Redis (a worker's REDIS_URL, a task that found it) tries to turn that into
 * API power: a record written from scratch, a real record edited, a real record copied under a
 * secret the writer knows. Each must be refused exactly as an unknown token is.
 */
describe('token records a Redis writer cannot forge', () => {
  const prefix = testPrefix('forged');
  let redis: Redis;
  let app: FastifyInstance;
  let logs: string[];

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    await new PoolStore(redis, { prefix }).put('local', poolSettingsSchema.parse(LOCAL_POOL_DEFAULTS));
    ({ app, logs } = await api(prefix));
  });
  afterAll(async () => {
    await app.close();
    await redis.quit();
    await deleteKeys(prefix);
  });

  /** Refused as an unknown token would be, with a warn line that names the record and holds no secret. */
  async function expectRefused(secret: string, tokenId: string): Promise<void> {
    const res = await mintWith(app, secret);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
    const unknown = await mintWith(app, generateSecret());
    expect(res.json()).toEqual(unknown.json());
    const warned = logs.filter((l) => l.includes(tokenId));
    expect(warned.length, 'a warn line names the refused record').toBeGreaterThan(0);
    expect(JSON.parse(warned.at(-1)!)).toMatchObject({ level: 40, tokenId });
    for (const l of logs) expect(l).not.toContain(secret);
  }

  it('refuses an admin record written straight into Redis', async () => {
    const secret = generateSecret();
    const record = { tokenId: 'tok_forgedadmin00000000', role: 'admin', name: 'forger', createdAt: Date.now() };
    await redis.set(`${prefix}:token:${hashToken(secret)}`, JSON.stringify(record));
    await redis.hset(`${prefix}:tokens`, record.tokenId, hashToken(secret));
    await expectRefused(secret, record.tokenId);
  });

  it('refuses a forged record even with a MAC field of the right shape', async () => {
    const secret = generateSecret();
    const real = await mint(app, { role: 'viewer', name: 'donor' });
    const donor = JSON.parse((await redis.get(`${prefix}:token:${hashToken(real.token)}`))!) as Record<string, unknown>;
    const record = { ...donor, tokenId: 'tok_forgedwithmac000000', role: 'admin' };
    await redis.set(`${prefix}:token:${hashToken(secret)}`, JSON.stringify(record));
    await expectRefused(secret, record.tokenId);
  });

  it('refuses a minted submitter token whose record was edited to role admin', async () => {
    const sub = await mint(app, { role: 'submitter', name: 'escalator' });
    // Before the edit it works, and it is a submitter: minting is refused with 403.
    expect((await mintWith(app, sub.token)).statusCode).toBe(403);
    const key = `${prefix}:token:${hashToken(sub.token)}`;
    const record = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
    await redis.set(key, JSON.stringify({ ...record, role: 'admin' }));
    await new Promise((r) => setTimeout(r, 2100)); // past the auth cache's 2 s
    await expectRefused(sub.token, sub.id);
  });

  it('refuses a minted admin record copied under a secret the writer knows', async () => {
    const realAdmin = await mint(app, { role: 'admin', name: 'real-admin' });
    const record = (await redis.get(`${prefix}:token:${hashToken(realAdmin.token)}`))!;
    const secret = generateSecret();
    await redis.set(`${prefix}:token:${hashToken(secret)}`, record);
    await expectRefused(secret, realAdmin.id);
    // The original still works: only the copy is refused.
    expect((await mintWith(app, realAdmin.token)).statusCode).toBe(201);
  });

  it('refuses a record moved to another token id', async () => {
    const v = await mint(app, { role: 'viewer', name: 'renamed' });
    const key = `${prefix}:token:${hashToken(v.token)}`;
    const record = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
    await redis.set(key, JSON.stringify({ ...record, tokenId: 'tok_someoneelse00000000' }));
    await new Promise((r) => setTimeout(r, 2100));
    const res = await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(v.token) });
    expect(res.statusCode).toBe(401);
    expect(logs.some((l) => l.includes('tok_someoneelse00000000'))).toBe(true);
  });

  it('refuses a worker token moved to another pool, or with its expiry removed', async () => {
    const w = await mint(app, { role: 'worker', name: 'mover', pool: 'local' });
    const wKey = `${prefix}:token:${hashToken(w.token)}`;
    const wRecord = JSON.parse((await redis.get(wKey))!) as Record<string, unknown>;
    await redis.set(wKey, JSON.stringify({ ...wRecord, pool: 'gpu' }));
    const lease = await app.inject({
      method: 'POST',
      url: '/v1/workers/lease',
      headers: auth(w.token),
      payload: { workerId: 'w1', pool: 'gpu' },
    });
    expect(lease.statusCode).toBe(401);

    const t = await mint(app, { role: 'viewer', name: 'short-lived', ttlSeconds: 60 });
    const tKey = `${prefix}:token:${hashToken(t.token)}`;
    const { expiresAt: _e, ...forever } = JSON.parse((await redis.get(tKey))!) as Record<string, unknown>;
    await redis.set(tKey, JSON.stringify(forever));
    expect((await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(t.token) })).statusCode).toBe(401);
  });

  it('refuses a record that is not JSON, with a warn line and no 500', async () => {
    const secret = generateSecret();
    await redis.set(`${prefix}:token:${hashToken(secret)}`, '{"tokenId": "tok_notjson');
    const res = await mintWith(app, secret);
    expect(res.statusCode).toBe(401);
  });

  it('revokes the token asked for even when the id index was edited to point elsewhere or emptied', async () => {
    const stolen = await mint(app, { role: 'viewer', name: 'stolen' });
    const bystander = await mint(app, { role: 'viewer', name: 'bystander' });
    const hidden = await mint(app, { role: 'viewer', name: 'hidden' });
    const jobsWith = async (t: string) =>
      (await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(t) })).statusCode;
    // The thief points the stolen token's index entry at another token's record, and removes another's entry.
    await redis.hset(`${prefix}:tokens`, stolen.id, hashToken(bystander.token));
    await redis.hdel(`${prefix}:tokens`, hidden.id);
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/tokens/${stolen.id}`, headers: auth(ADMIN) })).statusCode,
    ).toBe(204);
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/tokens/${hidden.id}`, headers: auth(ADMIN) })).statusCode,
    ).toBe(204);
    await new Promise((r) => setTimeout(r, 2100)); // past the auth cache's 2 s
    expect(await jobsWith(stolen.token)).toBe(401);
    expect(await jobsWith(hidden.token)).toBe(401);
    expect(await jobsWith(bystander.token)).toBe(200);
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/tokens/${stolen.id}`, headers: auth(ADMIN) })).statusCode,
    ).toBe(404);
  });

  it('still admits minted tokens of every role, each as its role', async () => {
    const admin = await mint(app, { role: 'admin', name: 'a' });
    const submitter = await mint(app, { role: 'submitter', name: 's' });
    const viewer = await mint(app, { role: 'viewer', name: 'v' });
    const worker = await mint(app, { role: 'worker', name: 'w', pool: 'local' });
    const ttl = await mint(app, { role: 'viewer', name: 'ttl', ttlSeconds: 3600 });
    expect((await mintWith(app, admin.token)).statusCode).toBe(201);
    expect((await mintWith(app, submitter.token)).statusCode).toBe(403);
    const job = {
      kind: 'extraction',
      name: 'n',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 1 },
      pool: 'local',
      run: { builtin: 'noop' },
    };
    expect(
      (await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(submitter.token), payload: job })).statusCode,
    ).toBe(201);
    expect((await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(viewer.token) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(ttl.token) })).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth(viewer.token), payload: job })).statusCode,
    ).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(worker.token) })).statusCode).toBe(403);
    const lease = await app.inject({
      method: 'POST',
      url: '/v1/workers/lease',
      headers: auth(worker.token),
      payload: { workerId: 'w1', pool: 'local' },
    });
    expect(lease.statusCode, lease.body).toBe(200);
    // Revocation still works on signed records.
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/tokens/${viewer.id}`, headers: auth(ADMIN) })).statusCode,
    ).toBe(204);
  });
});

describe('the signing key', () => {
  const prefix = testPrefix('forged-key');
  afterAll(() => deleteKeys(prefix));

  it('records made with one key are refused under another, and kept under the same key with a new admin token', async () => {
    const a = await api(prefix, { tokenSigningKey: KEY_A });
    const sub = await mint(a.app, { role: 'viewer', name: 'keyed' });
    expect((await a.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(sub.token) })).statusCode).toBe(200);
    await a.app.close();

    const b = await api(prefix, { tokenSigningKey: KEY_B });
    expect((await b.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(sub.token) })).statusCode).toBe(401);
    expect(b.logs.some((l) => l.includes(sub.id))).toBe(true);
    await b.app.close();

    const rotated = await api(prefix, { tokenSigningKey: KEY_A, adminToken: 'another-admin-token-0123456789' });
    expect((await rotated.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(sub.token) })).statusCode).toBe(
      200,
    );
    await rotated.app.close();
  });

  it('with no key set, it comes from the admin token: a new admin token refuses tokens minted under the old one', async () => {
    const a = await api(prefix);
    const sub = await mint(a.app, { role: 'viewer', name: 'derived' });
    expect((await a.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(sub.token) })).statusCode).toBe(200);
    await a.app.close();

    const same = await api(prefix);
    expect((await same.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(sub.token) })).statusCode).toBe(200);
    await same.app.close();

    const rotated = await api(prefix, { adminToken: 'another-admin-token-0123456789' });
    expect((await rotated.app.inject({ method: 'GET', url: '/v1/jobs', headers: auth(sub.token) })).statusCode).toBe(
      401,
    );
    await rotated.app.close();
  });

  it('a key shorter than 32 bytes is refused when the API is built, and in its configuration', async () => {
    await expect(api(prefix, { tokenSigningKey: 'too-short' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(() => parseApiEnv({ KUMO_TOKEN_SIGNING_KEY: 'too-short' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(parseApiEnv({ KUMO_TOKEN_SIGNING_KEY: KEY_A }).KUMO_TOKEN_SIGNING_KEY).toBe(KEY_A);
    expect(parseApiEnv({}).KUMO_TOKEN_SIGNING_KEY).toBeUndefined();
  });
});

describe('the key stays with the API', () => {
  it('the logger censors the key wherever a careless field puts it', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ name: 'redact-key', level: 'info', destination });
    log.info({ env: { KUMO_TOKEN_SIGNING_KEY: KEY_A } }, 'a');
    log.info({ opts: { tokenSigningKey: KEY_A, signingKey: KEY_B } }, 'b');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toMatch(/signing-key-[ab]-/);
  });

  it('a local worker process does not inherit KUMO_TOKEN_SIGNING_KEY (nor the admin token)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-worker-env-'));
    const out = join(dir, 'env.json');
    const fleet = new LocalProvider({
      // Stands in for the worker: writes down the environment it was given, and exits.
      workerArgv: [
        process.execPath,
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`,
        'worker',
      ],
      env: { KUMO_PREFIX: 'unused' },
      // As `npm start` runs with both set: the control plane's environment is what workers start from.
      inheritedEnv: { ...process.env, KUMO_TOKEN_SIGNING_KEY: KEY_A, KUMO_ADMIN_TOKEN: ADMIN },
      logger: createLogger({ name: 'worker-env', level: 'silent' }),
      stopGraceMs: 1000,
    });
    try {
      await fleet.create({
        name: 'vm-env',
        zone: 'local',
        requestId: 'r',
        spec: {
          pool: 'local',
          machineType: 'local',
          gpu: { type: 'none', count: 0 },
          spot: false,
          zones: ['local'],
          slots: 1,
          labels: {},
          worker: {},
        },
      });
      for (let i = 0; i < 100 && (await fleet.list()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      const env = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
      expect(env.KUMO_PREFIX).toBe('unused');
      expect(env.PATH).toBe(process.env.PATH);
      expect(env).not.toHaveProperty('KUMO_TOKEN_SIGNING_KEY');
      expect(env).not.toHaveProperty('KUMO_ADMIN_TOKEN');
    } finally {
      await fleet.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
