import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, KumoError } from '@kumo/shared';
import {
  describeCallFailure,
  GceProvider,
  insertCallError,
  loadWorkerStartupScript,
  operationError,
  WORKER_STARTUP_SCRIPT_PATH,
} from '@kumo/provisioner';
import { describe, expect, it } from 'vitest';
import { PROJECT, rejectionOf, request, STARTUP_SCRIPT } from './helpers';

const ctx = { name: 'kumo-x', zone: 'us-central1-a' };

describe('insert errors google-gax decoded itself (gRPC codes, no HTTP status)', () => {
  // The REST transport yields these when the auth client resolves non-2xx answers instead of throwing.
  it('UNAVAILABLE (HTTP 503) is retryable; INTERNAL (500 or 502: gax maps both alike) is an unknown outcome', () => {
    const unavailable = insertCallError(describeCallFailure({ code: 14, message: 'x' }), ctx, undefined);
    expect(unavailable).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    const internal = insertCallError(describeCallFailure({ code: 13, message: 'x' }), ctx, undefined);
    expect(internal).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: false });
    expect(internal.details?.outcome).toBe('unknown');
  });

  it('reads the quota metric from ErrorInfo', () => {
    const err = insertCallError(
      describeCallFailure({
        code: 7,
        reason: 'QUOTA_EXCEEDED',
        errorInfoMetadata: { quota_metric: 'NVIDIA_A100_GPUS', region: 'us-central1' },
      }),
      ctx,
      undefined,
    );
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(err.details).toMatchObject({ metric: 'NVIDIA_A100_GPUS', region: 'us-central1' });
  });

  it('a synchronous 503 insufficientCapacity is a capacity error, not an outage', () => {
    const failure = describeCallFailure({
      status: 503,
      response: {
        status: 503,
        data: JSON.stringify({ error: { code: 503, errors: [{ reason: 'insufficientCapacity' }] } }),
      },
    });
    expect(insertCallError(failure, ctx, undefined).code).toBe('ZONE_RESOURCE_POOL_EXHAUSTED');
  });
});

describe('operation errors', () => {
  it('maps codes: already-exists, a server-side failure (retryable), anything else rejected', () => {
    expect(operationError([{ code: 'RESOURCE_ALREADY_EXISTS' }], 409, ctx)).toBe('already-exists');
    const server = operationError([{ code: 'INTERNAL_ERROR' }], 500, ctx) as KumoError;
    expect(server).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    const other = operationError([{ code: 'UNSUPPORTED_OPERATION' }], 400, ctx) as KumoError;
    expect(other).toMatchObject({ code: 'PROVIDER_REJECTED', retryable: false });
    expect(other.details?.codes).toEqual(['UNSUPPORTED_OPERATION']);
  });
});

it('an endpoint that refuses connections makes create retryable: nothing was sent', async () => {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const gce = new GceProvider({
    projectId: PROJECT,
    endpoint: `http://127.0.0.1:${port}`,
    startupScript: STARTUP_SCRIPT,
    callTimeoutMs: 3_000,
    logger: createLogger({ name: 'test', level: 'silent' }),
  });
  try {
    const err = await rejectionOf(gce.create(request('us-central1-a')));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(err.details).toMatchObject({ networkCode: 'ECONNREFUSED', outcome: 'not-created' });
  } finally {
    await gce.close();
  }
});

describe('worker startup script', () => {
  it('loads the script the VMs run, with the systemd stop settings preemption needs', () => {
    const text = loadWorkerStartupScript();
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('KillSignal=SIGTERM');
    expect(text).toContain('TimeoutStopSec=25');
    expect(text).toContain('kumo-worker-bundle');
    expect(WORKER_STARTUP_SCRIPT_PATH.endsWith('worker-startup.sh')).toBe(true);
  });

  it('fails with CONFIG_INVALID when the script is missing', () => {
    expect(() => loadWorkerStartupScript('/nonexistent/worker-startup.sh')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }) as unknown as Error,
    );
  });
});
