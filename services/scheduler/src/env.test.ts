import { describe, expect, it } from 'vitest';
import { parseSchedulerEnv, workerSettingsOf } from './env';

describe('scheduler configuration', () => {
  it("refuses KUMO_WORKER_REDIS_URL (it would land in VMs' instance metadata) and names what replaces it", () => {
    expect(() => parseSchedulerEnv({ KUMO_WORKER_REDIS_URL: 'redis://:pw@10.0.0.3:6379' })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('KUMO_WORKER_REDIS_URL_SECRET'),
      }),
    );
  });

  it('tells new VMs where the API and the bus are, and nothing secret', () => {
    const w = workerSettingsOf(
      parseSchedulerEnv({
        KUMO_CONTROL_URL: 'https://kumo.internal',
        KUMO_BUS: 'pubsub',
        GOOGLE_CLOUD_PROJECT: 'p',
        KUMO_ARTIFACTS_BUCKET: 'kumo-artifacts',
      }),
    );
    expect(w).toEqual({
      controlUrl: 'https://kumo.internal',
      extraEnv: {
        KUMO_BUS: 'pubsub',
        KUMO_PREFIX: 'kumo',
        GOOGLE_CLOUD_PROJECT: 'p',
        KUMO_ARTIFACTS_BUCKET: 'kumo-artifacts',
      },
    });
  });
});
