import { dirname, join } from 'node:path';
import { z } from 'zod';
import { KumoError } from '@kumo/shared';
import { DEFAULT_SANDBOX_SETTINGS, type TaskSandboxSettings } from './sandbox/task-sandbox';

const schema = z.object({
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  KUMO_PREFIX: z.string().min(1).default('kumo'),
  KUMO_BUS: z.enum(['redis', 'pubsub']).default('redis'),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  KUMO_POOL: z.string().min(1).default('local'),
  /** The VM (or process) name; the fleet knows the worker by it. */
  KUMO_WORKER_NAME: z.string().min(1).default(`worker-${process.pid}`),
  KUMO_SLOTS: z.coerce.number().int().min(1).max(1024).default(4),
  /** Where other VMs reach this one (a gang's MASTER_ADDR is rank 0's); default its first external IPv4 address. */
  KUMO_WORKER_ADDR: z.string().min(1).max(255).optional(),
  /** How long a task's lock lives without renewal: a worker gone this long loses its tasks. */
  KUMO_TASK_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /** On SIGTERM: how long running tasks may finish before they are handed back. */
  KUMO_DRAIN_MS: z.coerce.number().int().min(0).default(20_000),
  KUMO_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5_000),
  /** Where tasks' checkpoints go unless the job names a place (local folder or a mounted bucket). */
  KUMO_ARTIFACTS_DIR: z
    .string()
    .min(1)
    .default(join(process.cwd(), '.kumo', 'artifacts')),
  /**
   * `1` on a Compute Engine VM (the startup script sets it): watch the metadata server at
   * http://metadata.google.internal for this VM's preemption and hand every task back at once.
   */
  KUMO_ON_GCE: z.enum(['0', '1']).default('0'),
  /** The metadata server to watch instead (tests, emulators); setting it turns the watch on off GCE too. */
  KUMO_METADATA_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Least time between two preemption questions while the answer is "not preempted". */
  KUMO_PREEMPTION_POLL_MS: z.coerce.number().int().min(100).default(1_000),
  /** Task logs go to this GCS bucket (else under KUMO_ARTIFACTS_DIR); KUMO_STORAGE_ENDPOINT replaces GCS's endpoint. */
  KUMO_ARTIFACTS_BUCKET: z.string().min(3).optional(),
  KUMO_STORAGE_ENDPOINT: z.url().optional(),
  /** The most bytes of one task attempt's log kept (its tail, with a marker where the head was cut). */
  KUMO_TASK_LOG_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(16 * 1024 * 1024),
  /** A worker token (role worker, scoped to KUMO_POOL): the worker then talks only HTTPS to KUMO_CONTROL_URL. */
  KUMO_WORKER_TOKEN: z.string().min(16).optional(),
  KUMO_CONTROL_URL: z.url().optional(),
  /** Command tasks: the uid range they run as (a job's uid is base + hash(job id) mod span) and their group. */
  KUMO_TASK_UID_BASE: z.coerce.number().int().min(1000).max(4_000_000_000).default(DEFAULT_SANDBOX_SETTINGS.uidBase),
  KUMO_TASK_UID_SPAN: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_SANDBOX_SETTINGS.uidSpan),
  KUMO_TASK_GID: z.coerce.number().int().min(1000).max(4_000_000_000).default(DEFAULT_SANDBOX_SETTINGS.gid),
  /** Where per-task scratch folders are made (removed after each task). */
  KUMO_TASK_SCRATCH_DIR: z.string().min(1).default(DEFAULT_SANDBOX_SETTINGS.scratchRoot),
  /** Colon-separated folders under which kumo may create a job's local output/checkpoint folder for its tasks. */
  KUMO_TASK_DATA_DIRS: z.string().default(''),
  /** `1`: where the host cannot isolate tasks (not root, no namespaces), run them as the worker (unsafe). */
  KUMO_UNISOLATED_TASKS: z.enum(['0', '1']).default('0'),
  LOG_LEVEL: z.string().default('info'),
});

export type WorkerEnv = z.infer<typeof schema>;

/** The GCE metadata server, as seen from every VM. */
export const GCE_METADATA_URL = 'http://metadata.google.internal';

/** Where to watch for preemption, or undefined when this worker is not on a VM that can be preempted. */
export function metadataUrlOf(env: Pick<WorkerEnv, 'KUMO_ON_GCE' | 'KUMO_METADATA_URL'>): string | undefined {
  return env.KUMO_METADATA_URL ?? (env.KUMO_ON_GCE === '1' ? GCE_METADATA_URL : undefined);
}

/**
 * Where this worker's command tasks run. Besides the folders the admin lists, a job's local folders
 * may be made under the worker's artifacts folder and its parent (`.kumo/` under `npm start`: the
 * secrets there are files the agent owns, which kumo never hands over) and the system's temp folder.
 */
export function sandboxSettingsOf(
  env: WorkerEnv,
  host: { tempDir: string; homeDir: string; workDir: string },
): TaskSandboxSettings {
  const dataDir = dirname(env.KUMO_ARTIFACTS_DIR);
  return {
    uidBase: env.KUMO_TASK_UID_BASE,
    uidSpan: env.KUMO_TASK_UID_SPAN,
    gid: env.KUMO_TASK_GID,
    scratchRoot: env.KUMO_TASK_SCRATCH_DIR,
    dataRoots: [env.KUMO_ARTIFACTS_DIR, dataDir, host.tempDir, ...env.KUMO_TASK_DATA_DIRS.split(':').filter(Boolean)],
    allowUnisolated: env.KUMO_UNISOLATED_TASKS === '1',
    // Without root (bubblewrap): the worker's home is hidden, the checkout kumo runs from stays readable
    // (examples, a spec's cwd), and of kumo's data folder only what anyone may read (not its secrets).
    hiddenPaths: [host.homeDir, '/etc/kumo'],
    privateDataDirs: [dataDir],
    readOnlyPaths: [host.workDir],
  };
}

/** Parsed once at start-up: bad configuration stops the worker with a clear message. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const r = schema.safeParse(env);
  if (!r.success) {
    throw new KumoError(
      'CONFIG_INVALID',
      `worker configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  if (r.data.KUMO_WORKER_TOKEN && !r.data.KUMO_CONTROL_URL) {
    throw new KumoError(
      'CONFIG_INVALID',
      'worker configuration: KUMO_WORKER_TOKEN needs KUMO_CONTROL_URL (the API to talk to)',
    );
  }
  // Only a worker with a token talks to the URL (fleet VMs are told it too, and use Redis): the rule
  // holds where the token would travel.
  if (r.data.KUMO_WORKER_TOKEN && r.data.KUMO_CONTROL_URL && !controlUrlSafe(new URL(r.data.KUMO_CONTROL_URL))) {
    throw new KumoError(
      'CONFIG_INVALID',
      `worker configuration: KUMO_CONTROL_URL must be https:// (the worker token travels with every request); http:// only to a loopback address (127.0.0.0/8, ::1, localhost), not '${r.data.KUMO_CONTROL_URL}'`,
    );
  }
  return r.data;
}

/** https:// anywhere; plain http:// only where nothing crosses a network (the worker on the API's machine). */
function controlUrlSafe(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
