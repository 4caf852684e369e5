import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '../..');
// `merge: true` resolves the `<<: *anchor` keys the file uses, as docker compose does.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: string;
      command?: string[];
      environment?: Record<string, string>;
      depends_on?: Record<string, { condition: string }>;
    }
  >;
};

describe('docker-compose.yml', () => {
  it('has redis with AOF and noeviction, and the Pub/Sub emulator on 8085', () => {
    const redis = compose.services.redis!;
    expect(redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']));
    const pubsub = compose.services.pubsub!;
    expect(pubsub.image).toBe('gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators');
    expect(pubsub.command?.join(' ')).toMatch(/^gcloud beta emulators pubsub start .*--host-port=0\.0\.0\.0:8085/);
  });

  it.each(['api', 'scheduler', 'provisioner'])('runs %s from the root Dockerfile on the pubsub bus', (name) => {
    const svc = compose.services[name]!;
    expect(svc.build).toBe('.');
    expect(svc.command).toEqual(['npx', 'tsx', `services/${name}/src/main.ts`]);
    expect(existsSync(join(ROOT, `services/${name}/src/main.ts`))).toBe(true);
    expect(svc.environment).toMatchObject({
      KUMO_BUS: 'pubsub',
      PUBSUB_EMULATOR_HOST: 'pubsub:8085',
      GOOGLE_CLOUD_PROJECT: 'kumo-local',
      REDIS_URL: 'redis://redis:6379',
    });
    expect(svc.depends_on).toMatchObject({
      redis: { condition: 'service_healthy' },
      pubsub: { condition: 'service_healthy' },
    });
  });

  it('has a Dockerfile on node:20-slim that installs with npm ci', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/CMD \["npx", "tsx", "services\/api\/src\/main\.ts"\]/);
    // node_modules from the host must not shadow the image's own install.
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8')).toMatch(/^node_modules$/m);
  });
});
