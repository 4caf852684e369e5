import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKER_STARTUP_SCRIPT_PATH } from '@kumo/provisioner';

const INFRA = join(import.meta.dirname, '../../infra');

type Block = Record<string, any>;
/** resource type -> resource name -> body, over every .tf file (hcl2json wraps each block in an array). */
let resources: Record<string, Record<string, Block>>;
let variables: Record<string, Block>;
let outputs: Record<string, Block>;
let raw: string;

beforeAll(async () => {
  resources = {};
  variables = {};
  outputs = {};
  raw = '';
  const files = readdirSync(INFRA).filter((f) => f.endsWith('.tf'));
  expect(files.length).toBeGreaterThan(5);
  for (const file of files) {
    const text = readFileSync(join(INFRA, file), 'utf8');
    raw += text;
    const doc = (await parse(file, text)) as Record<string, any>;
    for (const [type, byName] of Object.entries<Record<string, Block[]>>(doc.resource ?? {})) {
      for (const [name, bodies] of Object.entries(byName)) (resources[type] ??= {})[name] = bodies[0]!;
    }
    for (const [name, bodies] of Object.entries<Block[]>(doc.variable ?? {})) variables[name] = bodies[0]!;
    for (const [name, bodies] of Object.entries<Block[]>(doc.output ?? {})) outputs[name] = bodies[0]!;
  }
}, 30_000);

const one = (type: string, name: string): Block => {
  const r = resources[type]?.[name];
  expect(r, `${type}.${name}`).toBeDefined();
  return r!;
};

describe('terraform', () => {
  it('declares the three bus topics, their subscriptions (provisioner, scheduler, ingester) and dead-letter topics', () => {
    const bus = raw.match(/bus = \{([\s\S]*?)\n {2}\}/)?.[1] ?? '';
    for (const [topic, subscriber] of [
      ['provision', 'provisioner'],
      ['fleet', 'scheduler'],
      ['progress', 'ingester'],
    ]) {
      expect(bus).toMatch(
        new RegExp(`${topic}\\s*=\\s*\\{ topic = "\\$\\{local.prefix\\}-${topic}", subscriber = "${subscriber}" \\}`),
      );
    }
    expect(variables.name_prefix!.default).toBe('kumo');
    expect(one('google_pubsub_topic', 'bus').for_each).toBe('${local.bus}');
    expect(one('google_pubsub_topic', 'dead_letter').name).toBe('${each.value.topic}-dead-letter');
    const sub = one('google_pubsub_subscription', 'bus');
    expect(sub.name).toBe('${each.value.topic}-${each.value.subscriber}');
    expect(sub.dead_letter_policy[0].dead_letter_topic).toBe('${google_pubsub_topic.dead_letter[each.key].id}');
    expect(sub.expiration_policy[0].ttl).toBe('');
    // Dead-lettering needs the Pub/Sub service agent's roles, or messages are never moved.
    expect(one('google_pubsub_topic_iam_member', 'dead_letter_publisher').member).toBe('${local.pubsub_agent}');
    expect(one('google_pubsub_subscription_iam_member', 'dead_letter_subscriber').role).toBe('roles/pubsub.subscriber');
  });

  it('declares the artifacts bucket with uniform access and a log lifecycle', () => {
    const bucket = one('google_storage_bucket', 'artifacts');
    expect(bucket.uniform_bucket_level_access).toBe(true);
    expect(bucket.public_access_prevention).toBe('enforced');
    const rules = bucket.lifecycle_rule as Block[];
    const logRule = rules.find((r) => r.condition[0].matches_suffix?.includes('log.txt'));
    expect(logRule?.action[0].type).toBe('Delete');
    expect(logRule?.condition[0].age).toBe('${var.log_retention_days}');
  });

  it('declares an A100 spot instance template with the worker startup script', () => {
    const tpl = one('google_compute_instance_template', 'a100_spot');
    expect(tpl.scheduling[0]).toMatchObject({
      provisioning_model: 'SPOT',
      preemptible: true,
      automatic_restart: false,
      on_host_maintenance: 'TERMINATE',
      instance_termination_action: 'DELETE',
    });
    expect(tpl.machine_type).toBe('${var.worker_machine_type}');
    expect(variables.worker_machine_type!.default).toBe('a2-highgpu-1g');
    expect(tpl.guest_accelerator[0].type).toBe('${var.worker_gpu_type}');
    expect(variables.worker_gpu_type!.default).toBe('nvidia-tesla-a100');
    expect(variables.worker_gpu_count!.default).toBe(1);
    expect(tpl.metadata['startup-script']).toBe(
      '${file("${path.module}/../services/provisioner/src/providers/worker-startup.sh")}',
    );
    expect(tpl.metadata['install-nvidia-driver']).toBe('True');
    expect(tpl.labels.kumo).toBe('worker');
  });

  it('declares Memorystore STANDARD_HA with noeviction and persistence', () => {
    const redis = one('google_redis_instance', 'kumo');
    expect(redis.tier).toBe('STANDARD_HA');
    expect(redis.redis_configs['maxmemory-policy']).toBe('noeviction');
    expect(redis.persistence_config[0].persistence_mode).toBe('RDB');
    expect(redis.auth_enabled).toBe(true);
  });

  it('gives the control plane least-privilege roles and runs npm start with gce and pubsub', () => {
    expect(one('google_project_iam_member', 'control_plane_compute').role).toBe('roles/compute.instanceAdmin.v1');
    const actAs = one('google_service_account_iam_member', 'control_plane_acts_as_worker');
    expect(actAs.role).toBe('roles/iam.serviceAccountUser');
    // Granted on the worker account alone, not on the project.
    expect(actAs.service_account_id).toBe('${google_service_account.worker.name}');
    expect(one('google_storage_bucket_iam_member', 'artifacts_admin').role).toBe('roles/storage.objectAdmin');
    expect(one('google_pubsub_topic_iam_member', 'control_plane_publisher').role).toBe('roles/pubsub.publisher');
    expect(one('google_pubsub_subscription_iam_member', 'control_plane_subscriber').role).toBe(
      'roles/pubsub.subscriber',
    );
    // No project-wide editor/owner anywhere.
    expect(raw).not.toMatch(/roles\/(editor|owner)/);

    const vm = one('google_compute_instance', 'control_plane');
    expect(vm.machine_type).toBe('${var.control_plane_machine_type}');
    expect(variables.control_plane_machine_type!.default).toBe('e2-standard-4');
    expect(raw).toContain('"KUMO_PROVIDER=gce"');
    expect(raw).toContain('"KUMO_BUS=pubsub"');
    expect(readFileSync(join(INFRA, 'control-plane-startup.sh'), 'utf8')).toContain('ExecStart=/usr/bin/npm start');
  });

  it('keeps secrets in Secret Manager, readable by the identities that need them only, and names them in metadata', () => {
    const redisSecret = one('google_secret_manager_secret', 'redis_url');
    expect(redisSecret.secret_id).toBe('${local.prefix}-redis-url');
    // Terraform knows the Memorystore AUTH string: it writes the version; worker tokens it never sees.
    expect(one('google_secret_manager_secret_version', 'redis_url').secret_data).toBe('${local.redis_url}');
    const tokenSecret = one('google_secret_manager_secret', 'worker_token');
    expect(tokenSecret.for_each).toBe('${local.token_pools}');
    expect(tokenSecret.secret_id).toBe('${local.prefix}-worker-token-${each.key}');
    expect(resources.google_secret_manager_secret_version?.worker_token).toBeUndefined();

    // secretAccessor on each secret, never on the project; the worker identity reads only worker secrets.
    const grants = resources.google_secret_manager_secret_iam_member ?? {};
    expect(Object.values(grants).map((g) => g.role)).toEqual(
      Object.values(grants).map(() => 'roles/secretmanager.secretAccessor'),
    );
    expect(grants.worker_redis_url).toMatchObject({
      secret_id: '${google_secret_manager_secret.redis_url.id}',
      member: '${google_service_account.worker.member}',
    });
    expect(grants.worker_redis_url!.count).toBe('${local.workers_use_redis ? 1 : 0}');
    expect(grants.worker_token).toMatchObject({
      secret_id: '${google_secret_manager_secret.worker_token[each.key].id}',
      member: '${google_service_account.worker.member}',
    });
    expect(grants.control_plane_redis_url).toMatchObject({
      secret_id: '${google_secret_manager_secret.redis_url.id}',
      member: '${google_service_account.control_plane.member}',
    });
    expect(raw.match(/role\s*=\s*"roles\/secretmanager\.\w+"/g)).toHaveLength(Object.keys(grants).length);
    expect(variables.worker_transport!.default).toBe('redis');

    // The worker template and the control plane name secrets; no metadata value is one.
    const tpl = one('google_compute_instance_template', 'a100_spot');
    expect(tpl.metadata['kumo-redis-url']).toBeUndefined();
    expect(tpl.metadata['kumo-redis-url-secret']).toBe(
      '${local.workers_use_redis ? google_secret_manager_secret.redis_url.id : ""}',
    );
    expect(tpl.metadata['kumo-worker-token-secret']).toBe(
      '${try(google_secret_manager_secret.worker_token[var.worker_pool].id, "")}',
    );
    const vm = one('google_compute_instance', 'control_plane');
    expect(vm.metadata['kumo-redis-url-secret']).toBe('${google_secret_manager_secret.redis_url.id}');
    expect(raw).not.toMatch(/"REDIS_URL=/);
    expect(raw).toContain('"KUMO_WORKER_REDIS_URL_SECRET=${google_secret_manager_secret.redis_url.id}"');
    expect(raw).toContain('KUMO_WORKER_TOKEN_SECRET=${local.worker_token_secret_pattern}');
    // The AUTH string goes only into the secret's version and the sensitive output.
    for (const file of readdirSync(INFRA).filter(
      (f) => f.endsWith('.tf') && !['locals.tf', 'secrets.tf', 'outputs.tf'].includes(f),
    )) {
      expect(readFileSync(join(INFRA, file), 'utf8'), file).not.toMatch(/local\.redis_url|auth_string\}/);
    }
    expect(outputs.redis_url!.sensitive).toBe(true);
    // Both startup scripts read the values from Secret Manager.
    for (const script of [
      readFileSync(WORKER_STARTUP_SCRIPT_PATH, 'utf8'),
      readFileSync(join(INFRA, 'control-plane-startup.sh'), 'utf8'),
    ]) {
      expect(script).toContain('secretmanager.googleapis.com/v1');
      expect(script).toContain(':access"');
      expect(script).toContain('/versions/latest');
      expect(script).toContain('service-accounts/default/token');
    }
  });

  it('declares a firewall and a NAT for VMs without external addresses', () => {
    expect(Object.keys(resources.google_compute_firewall ?? {})).toEqual(
      expect.arrayContaining(['api_internal', 'iap_ssh']),
    );
    expect(one('google_compute_router_nat', 'kumo').source_subnetwork_ip_ranges_to_nat).toBe(
      'ALL_SUBNETWORKS_ALL_IP_RANGES',
    );
  });

  it('describes every variable, and defaults all but project_id', () => {
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['project_id', 'region', 'zones']));
    expect(variables.region!.default).toBe('us-central1');
    expect(variables.region!.description).toMatch(/A100/);
    for (const [name, v] of Object.entries(variables)) {
      expect(v.description, name).toMatch(/\w{3,}/);
      if (name !== 'project_id') expect(v, name).toHaveProperty('default');
    }
    for (const [name, o] of Object.entries(outputs)) expect(o.description, name).toMatch(/\w{3,}/);
  });
});

describe('startup scripts', () => {
  it.each([
    ['worker', WORKER_STARTUP_SCRIPT_PATH],
    ['control plane', join(INFRA, 'control-plane-startup.sh')],
  ])('the %s startup script is shellcheck-clean', (_what, path) => {
    const r = spawnSync('shellcheck', ['--severity=style', '--shell=bash', path], { encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'shellcheck is not installed: install it (apt-get install shellcheck); CI runs it on every startup script',
      );
    }
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
