import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { KumoError, type Logger } from '@kumo/shared';

/** Every guard rule's comment starts with this, then the worker's name. */
export const GUARD_COMMENT_PREFIX = 'kumo-task-guard:';

/** A place tasks must not reach: the metadata server (the VM's tokens) or one of the control plane's stores. */
export interface GuardedEndpoint {
  what: 'metadata' | 'redis';
  host: string;
  /** Undefined: every port of the host (the metadata server's address is only ever the metadata server). */
  port?: number;
}

/**
 * Rejects, in the host's firewall, connections from the task uid range to the endpoints above. Tasks
 * keep every other network (their data's buckets and mirrors); only what would hand them the VM's
 * credentials or the control plane's state is out of reach. Rules carry the worker's name, so a worker
 * that was killed leaves nothing a restarted one does not clear first.
 */
export class NetworkGuard {
  private installed: string[][] = [];

  constructor(
    private readonly opts: { workerName: string; uidFirst: number; uidLast: number; logger: Logger; iptables?: string },
  ) {}

  static available(iptables = 'iptables'): boolean {
    return spawnSync(iptables, ['-w', '-L', 'OUTPUT', '-n'], { stdio: 'ignore' }).status === 0;
  }

  async install(endpoints: GuardedEndpoint[]): Promise<void> {
    this.clearStale();
    for (const e of endpoints) {
      const addresses = isIP(e.host)
        ? [e.host]
        : (await lookup(e.host, { all: true, family: 4 })).map((a) => a.address);
      for (const address of addresses) {
        const rule = [
          'OUTPUT',
          '-d',
          address,
          ...(e.port ? ['-p', 'tcp', '--dport', String(e.port)] : []),
          '-m',
          'owner',
          '--uid-owner',
          `${this.opts.uidFirst}-${this.opts.uidLast}`,
          '-m',
          'comment',
          '--comment',
          this.comment(),
          '-j',
          'REJECT',
          ...(e.port ? ['--reject-with', 'tcp-reset'] : []),
        ];
        this.run(['-w', '-I', ...rule]);
        this.installed.push(rule);
        // Image tasks' containers on docker's bridge reach the host's network through FORWARD, where
        // docker leaves DOCKER-USER to the admin: they must not reach the metadata server either.
        if (e.what === 'metadata' && chainExists('DOCKER-USER', this.opts.iptables)) {
          const forwarded = [
            'DOCKER-USER',
            '-d',
            address,
            ...(e.port ? ['-p', 'tcp', '--dport', String(e.port)] : []),
            '-m',
            'comment',
            '--comment',
            this.comment(),
            '-j',
            'REJECT',
          ];
          this.run(['-w', '-I', ...forwarded]);
          this.installed.push(forwarded);
        }
        this.opts.logger.info({ what: e.what, address, port: e.port }, 'tasks cannot reach this endpoint');
      }
    }
  }

  remove(): void {
    for (const rule of this.installed)
      spawnSync(this.opts.iptables ?? 'iptables', ['-w', '-D', ...rule], { stdio: 'ignore' });
    this.installed = [];
  }

  private comment(): string {
    return `${GUARD_COMMENT_PREFIX}${this.opts.workerName}`.slice(0, 255);
  }

  /** Rules a killed worker of the same name left. */
  private clearStale(): void {
    deleteGuardRules(this.comment(), this.opts.iptables);
  }

  private run(args: string[]): void {
    const r = spawnSync(this.opts.iptables ?? 'iptables', args, { encoding: 'utf8' });
    if (r.status !== 0)
      throw new KumoError(
        'CONFIG_INVALID',
        `iptables ${args.join(' ')} failed: ${(r.stderr ?? '').trim() || r.error?.message}`,
      );
  }
}

/**
 * Deletes the OUTPUT rules whose comment starts with `commentPrefix` (`kumo-task-guard:` for every
 * worker's): `iptables -S` prints each rule as it was added, so `-A` becomes `-D`.
 */
export function deleteGuardRules(commentPrefix: string, iptables = 'iptables'): void {
  for (const chain of ['OUTPUT', 'DOCKER-USER']) {
    const listed = spawnSync(iptables, ['-w', '-S', chain], { encoding: 'utf8' });
    if (listed.status !== 0) continue;
    for (const line of listed.stdout.split('\n')) {
      const args = line.startsWith(`-A ${chain} `)
        ? line
            .replace(/^-A /, '-D ')
            .match(/"[^"]*"|\S+/g)
            ?.map((a) => a.replace(/^"|"$/g, ''))
        : undefined;
      const comment = args?.[args.indexOf('--comment') + 1];
      if (args && comment?.startsWith(commentPrefix) && (commentPrefix.endsWith(':') || comment === commentPrefix))
        spawnSync(iptables, ['-w', ...args], { stdio: 'ignore' });
    }
  }
}

function chainExists(chain: string, iptables = 'iptables'): boolean {
  return spawnSync(iptables, ['-w', '-S', chain], { stdio: 'ignore' }).status === 0;
}

/** host:port of a redis:// URL (its password never leaves this function). */
export function redisEndpoint(redisUrl: string): GuardedEndpoint {
  const u = new URL(redisUrl);
  return { what: 'redis', host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) };
}

/** The metadata server of a URL (http://metadata.google.internal on GCE; a fake one in tests). */
export function metadataEndpoint(metadataUrl: string): GuardedEndpoint {
  const u = new URL(metadataUrl);
  return { what: 'metadata', host: u.hostname, ...(u.port ? { port: Number(u.port) } : {}) };
}
