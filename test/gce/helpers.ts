import { randomUUID } from 'node:crypto';
import { createLogger, type CreateVmRequest, type VmSpec } from '@kumo/shared';
import { GceProvider, type GceProviderOptions, loadWorkerStartupScript } from '@kumo/provisioner';
import type { FakeCompute } from '../fakes/compute-server';

export const PROJECT = 'kumo-test';
export const STARTUP_SCRIPT = loadWorkerStartupScript();

/** The pool the brief names: one A100 per spot VM, two zones. */
export function a100Spec(overrides: Partial<VmSpec> = {}): VmSpec {
  return {
    pool: 'a100-spot',
    machineType: 'a2-highgpu-1g',
    gpu: { type: 'nvidia-tesla-a100', count: 1 },
    spot: true,
    zones: ['us-central1-a', 'us-central1-b'],
    slots: 1,
    labels: { team: 'llm' },
    worker: { controlUrl: 'http://10.0.0.2:8080' },
    ...overrides,
  };
}

export function request(zone: string, overrides: Partial<CreateVmRequest> = {}): CreateVmRequest {
  return {
    name: `kumo-a100-${randomUUID().slice(0, 8)}`,
    zone,
    spec: a100Spec(),
    requestId: randomUUID(),
    ...overrides,
  };
}

/** A provider on the fake, with short limits so that a failing test fails fast. */
export function provider(fake: FakeCompute, opts: Partial<GceProviderOptions> = {}): GceProvider {
  return new GceProvider({
    projectId: PROJECT,
    endpoint: fake.endpoint,
    startupScript: STARTUP_SCRIPT,
    callTimeoutMs: 3_000,
    operationTimeoutMs: 5_000,
    logger: createLogger({ name: 'test', level: 'silent' }),
    ...opts,
  });
}

export function metadataOf(body: Record<string, any>): Record<string, string> {
  return Object.fromEntries((body.metadata?.items ?? []).map((i: { key: string; value: string }) => [i.key, i.value]));
}

/** Resolves to the rejection of `p`, failing the test when it resolves instead. */
export async function rejectionOf(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
