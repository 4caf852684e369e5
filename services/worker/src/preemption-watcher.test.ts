import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@kumo/shared';
import { startFakeMetadata, type FakeMetadata } from '../../../test/gce/metadata-server';
import { GCE_METADATA_URL, metadataUrlOf, parseWorkerEnv } from './env';
import { PreemptionWatcher, type PreemptionWatcherOptions } from './preemption-watcher';

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => { level: number; msg: string }[] } {
  const out: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      out.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger({ name: 'test', level: 'debug', destination }),
    lines: () => out.map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('PreemptionWatcher', () => {
  let fake: FakeMetadata | undefined;
  const watchers: PreemptionWatcher[] = [];

  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
    await fake?.close();
    fake = undefined;
  });

  function watch(opts: Partial<PreemptionWatcherOptions> & { metadataUrl: string }): {
    watcher: PreemptionWatcher;
    calls: () => number;
    lines: ReturnType<typeof capturingLogger>['lines'];
  } {
    let calls = 0;
    const { logger, lines } = capturingLogger();
    const watcher = new PreemptionWatcher({ logger, onPreempted: () => void calls++, ...opts });
    watchers.push(watcher);
    return { watcher, calls: () => calls, lines };
  }

  it('holds a wait_for_change question open and calls back once, as soon as the flag turns TRUE', async () => {
    fake = await startFakeMetadata();
    // A poll interval far longer than the test: only the held question can see the change in time.
    const { watcher, calls } = watch({ metadataUrl: fake.url, intervalMs: 30_000, waitTimeoutSec: 30 });
    watcher.start();
    await until('a held question', () => fake!.held() === 1);
    expect(watcher.state).toBe('watching');
    expect(calls()).toBe(0);

    const flipped = Date.now();
    fake.setPreempted('', true);
    await until('the callback', () => calls() > 0);
    expect(Date.now() - flipped).toBeLessThan(1000);
    expect(watcher.state).toBe('preempted');
    await sleep(200);
    expect(calls()).toBe(1);

    // First a plain question (the flag may already be TRUE), then one held on the ETag it returned.
    const [first, second] = fake.requests;
    expect(first!.query).toEqual({});
    expect(second!.query).toMatchObject({ wait_for_change: 'true', last_etag: 'f00000000', timeout_sec: '30' });
    expect(fake.requests.every((r) => r.flavor === 'Google')).toBe(true);
  });

  it('calls back on the first answer when the VM is already being preempted', async () => {
    fake = await startFakeMetadata();
    fake.setPreempted('', true);
    const { watcher, calls } = watch({ metadataUrl: fake.url });
    watcher.start();
    await until('the callback', () => calls() === 1);
    expect(fake.requests).toHaveLength(1);
    expect(watcher.state).toBe('preempted');
  });

  it('polls every intervalMs, no faster, when the server gives no ETag to wait on', async () => {
    fake = await startFakeMetadata({ etags: false });
    const { watcher, calls } = watch({ metadataUrl: `${fake.url}/`, intervalMs: 100 });
    watcher.start();
    await sleep(550);
    const asked = fake.requests.length;
    // About 6 in 550 ms; a busy loop would make hundreds.
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(asked).toBeLessThanOrEqual(8);
    expect(fake.requests.every((r) => r.query.wait_for_change === undefined)).toBe(true);
    fake.setPreempted('', true);
    await until('the callback', () => calls() === 1);
  });

  it('does not spin on a server that answers wait_for_change at once instead of holding it', async () => {
    fake = await startFakeMetadata({ hold: false });
    const { watcher, calls } = watch({ metadataUrl: fake.url, intervalMs: 100 });
    watcher.start();
    await sleep(550);
    const asked = fake.requests.length;
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(asked).toBeLessThanOrEqual(9);
    expect(fake.requests.slice(1).every((r) => r.query.wait_for_change === 'true')).toBe(true);
    fake.setPreempted('', true);
    await until('the callback', () => calls() === 1);
  });

  it('keeps watching through failed and garbled answers, logs an outage once, and still sees the notice', async () => {
    fake = await startFakeMetadata();
    fake.failNext(503, { times: 3 });
    fake.failNext(200, { body: '<html>captive portal</html>' });
    const { watcher, calls, lines } = watch({ metadataUrl: fake.url, intervalMs: 50 });
    watcher.start();
    await until('a held question after the failures', () => fake!.held() === 1);
    expect(calls()).toBe(0);
    const warned = lines().filter((l) => l.msg === 'metadata server unreachable; retrying');
    expect(warned).toHaveLength(1);
    expect(lines().some((l) => l.msg === 'metadata server reachable again')).toBe(true);
    fake.setPreempted('', true);
    await until('the callback', () => calls() === 1);
  });

  it('survives a server that is not there at all, and stops promptly', async () => {
    fake = await startFakeMetadata();
    const url = fake.url;
    await fake.close();
    const { watcher, calls } = watch({ metadataUrl: url, intervalMs: 50 });
    watcher.start();
    await sleep(300);
    expect(watcher.state).toBe('watching');
    const t = Date.now();
    await watcher.stop();
    expect(Date.now() - t).toBeLessThan(500);
    expect(watcher.state).toBe('stopped');
    expect(calls()).toBe(0);
  });

  it('stop() abandons a held question; a later flip calls nothing', async () => {
    fake = await startFakeMetadata();
    const { watcher, calls } = watch({ metadataUrl: fake.url, waitTimeoutSec: 60 });
    watcher.start();
    await until('a held question', () => fake!.held() === 1);
    const t = Date.now();
    await watcher.stop();
    expect(Date.now() - t).toBeLessThan(500);
    await until('the held request to close', () => fake!.held() === 0);
    fake.setPreempted('', true);
    await sleep(200);
    expect(calls()).toBe(0);
    expect(watcher.state).toBe('stopped');
  });

  it('a handler that throws is logged, not rethrown, and stop() from inside the handler does not hang', async () => {
    fake = await startFakeMetadata();
    fake.setPreempted('vm-1', true);
    const { logger, lines } = capturingLogger();
    let stopped = false;
    const watcher: PreemptionWatcher = new PreemptionWatcher({
      metadataUrl: fake.urlFor('vm-1'),
      logger,
      onPreempted: async () => {
        await watcher.stop();
        stopped = true;
        throw new Error('handing back failed');
      },
    });
    watchers.push(watcher);
    watcher.start();
    await until('the handler to run', () => stopped);
    await until('the failure to be logged', () => lines().some((l) => l.msg === 'preemption handler failed'));
    expect(watcher.state).toBe('preempted');
  });

  it('check() answers once: true, false, or undefined when the server does not answer', async () => {
    fake = await startFakeMetadata();
    const { watcher } = watch({ metadataUrl: fake.urlFor('vm-a') });
    expect(await watcher.check()).toBe(false);
    fake.setPreempted('vm-a', true);
    expect(await watcher.check()).toBe(true);
    fake.failNext(404, { body: 'Not Found' });
    expect(await watcher.check()).toBeUndefined();
    // Answers for another VM on the same server are not this VM's.
    expect(fake.requests.every((r) => r.vm === 'vm-a')).toBe(true);
    expect(watcher.state).toBe('idle');
  });
});

describe('the worker environment for preemption', () => {
  it('watches the GCE metadata server on GCE, KUMO_METADATA_URL where given, and nothing otherwise', () => {
    expect(metadataUrlOf(parseWorkerEnv({ KUMO_ON_GCE: '1' }))).toBe(GCE_METADATA_URL);
    expect(metadataUrlOf(parseWorkerEnv({ KUMO_ON_GCE: '1', KUMO_METADATA_URL: 'http://127.0.0.1:9' }))).toBe(
      'http://127.0.0.1:9',
    );
    expect(metadataUrlOf(parseWorkerEnv({ KUMO_METADATA_URL: 'http://127.0.0.1:9' }))).toBe('http://127.0.0.1:9');
    expect(metadataUrlOf(parseWorkerEnv({}))).toBeUndefined();
    expect(metadataUrlOf(parseWorkerEnv({ KUMO_ON_GCE: '0' }))).toBeUndefined();
  });

  it('refuses values it cannot use, with CONFIG_INVALID', () => {
    for (const env of [
      { KUMO_ON_GCE: 'yes' },
      { KUMO_METADATA_URL: 'metadata.google.internal' },
      { KUMO_PREEMPTION_POLL_MS: '5' },
    ]) {
      expect(() => parseWorkerEnv(env), JSON.stringify(env)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    }
  });
});
