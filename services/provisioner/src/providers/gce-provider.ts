import { randomUUID } from 'node:crypto';
import { InstancesClient, ZoneOperationsClient, type protos } from '@google-cloud/compute';
import {
  KumoError,
  createLogger,
  type CreateVmRequest,
  type FleetProvider,
  type Logger,
  type PlacementPolicyRequest,
  type VmInfo,
} from '@kumo/shared';
import { withTimeout } from './call-timeout-error';
import { clientOptions } from './gce-client-options';
import {
  describeCallFailure,
  insertCallError,
  isAlreadyExists,
  isNotFound,
  operationError,
  unknownOutcome,
  type FailureContext,
} from './gce-errors';
import { buildInstance, toVmInfo } from './gce-instance';
import { GcePlacementPolicies } from './gce-placement';
import type { GceProviderOptions } from './gce-provider-options';
import { readError } from './gce-read-error';
import { checkSecretNames } from './gce-secrets';

export type { GceProviderOptions } from './gce-provider-options';

type Operation = protos.google.cloud.compute.v1.IOperation;
const WAIT_CALL_LIMIT_MS = 130_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The fleet on Compute Engine. create() inserts one VM under its predictable name with the request's
 * requestId and waits for the zone operation; errors are KumoErrors whose codes the zone walker and the
 * provisioner branch on (see gce-errors.ts for what is retryable and why).
 */
export class GceProvider implements FleetProvider {
  readonly kind = 'gce' as const;
  private readonly instances: InstancesClient;
  private readonly operations: ZoneOperationsClient;
  private readonly placement: GcePlacementPolicies;
  private readonly projectId: string;
  private readonly callTimeoutMs: number;
  private readonly operationTimeoutMs: number;
  private readonly labelKey: string;
  private readonly log: Logger;
  private readonly opts: GceProviderOptions;
  private closing: Promise<void> | undefined;

  constructor(opts: GceProviderOptions) {
    if (!opts.projectId) throw new KumoError('CONFIG_INVALID', 'GceProvider needs a projectId');
    if (!opts.startupScript) throw new KumoError('CONFIG_INVALID', 'GceProvider needs a startup script');
    checkSecretNames(opts.workerSecrets ?? {});
    this.opts = opts;
    this.projectId = opts.projectId;
    this.callTimeoutMs = opts.callTimeoutMs ?? 30_000;
    this.operationTimeoutMs = opts.operationTimeoutMs ?? 600_000;
    this.labelKey = opts.labelKey ?? 'kumo';
    this.log = (opts.logger ?? createLogger({ name: 'provisioner' })).child({ component: 'gce-provider' });
    if (!opts.workerSecrets?.redisUrl && !opts.workerSecrets?.workerToken) {
      this.log.warn(
        'neither KUMO_WORKER_REDIS_URL_SECRET nor KUMO_WORKER_TOKEN_SECRET is set: worker VMs will have nothing to connect with and stop at boot',
      );
    }
    const clientOpts = clientOptions(opts);
    this.instances = new InstancesClient(clientOpts);
    this.operations = new ZoneOperationsClient(clientOpts);
    this.placement = new GcePlacementPolicies(clientOpts, {
      projectId: this.projectId,
      callTimeoutMs: this.callTimeoutMs,
      log: this.log,
    });
  }

  ensurePlacementPolicy(req: PlacementPolicyRequest): Promise<string> {
    return this.placement.ensure(req);
  }

  async create(req: CreateVmRequest): Promise<VmInfo> {
    const ctx: FailureContext = { name: req.name, zone: req.zone };
    if (!UUID.test(req.requestId)) {
      throw new KumoError('PROVIDER_REJECTED', 'requestId must be a UUID', { details: { requestId: req.requestId } });
    }
    const instanceResource = buildInstance(req.name, req.zone, req.spec, {
      startupScript: this.opts.startupScript,
      serviceAccountEmail: this.opts.serviceAccountEmail,
      network: this.opts.network,
      subnetwork: this.opts.subnetwork,
      externalIp: this.opts.externalIp ?? false,
      labelKey: this.labelKey,
      workerBundleUri: this.opts.workerBundleUri,
      projectId: this.projectId,
      workerSecrets: this.opts.workerSecrets ?? {},
    });
    const fields = { name: req.name, zone: req.zone, pool: req.spec.pool, requestId: req.requestId };
    this.log.info(fields, 'gce insert');

    let op: Operation;
    try {
      const [lro] = await withTimeout(
        'instances.insert',
        this.callTimeoutMs,
        this.instances.insert({ project: this.projectId, zone: req.zone, requestId: req.requestId, instanceResource }),
      );
      op = lro.latestResponse as Operation;
    } catch (err) {
      const failure = describeCallFailure(err);
      // Names are predictable and ours: a 409 on one means an earlier try of this create got through.
      if (isAlreadyExists(failure)) return this.adopt(ctx, err);
      const error = insertCallError(failure, ctx, err);
      this.log.warn(
        { ...fields, code: error.code, retryable: error.retryable, details: error.details },
        'gce insert failed',
      );
      throw error;
    }

    const done = await this.waitDone(op, ctx);
    const errors = done.error?.errors ?? [];
    if (errors.length > 0) {
      const mapped = operationError(errors, done.httpErrorStatusCode, ctx);
      if (mapped === 'already-exists') return this.adopt(ctx, undefined);
      this.log.warn({ ...fields, code: mapped.code, details: mapped.details }, 'gce insert operation failed');
      throw mapped;
    }
    const vm = await this.get(req.name, req.zone);
    this.log.info({ ...fields, status: vm?.status }, 'gce insert done');
    // DONE without error but gone already: a spot VM reclaimed at once.
    return (
      vm ?? { name: req.name, pool: req.spec.pool, zone: req.zone, status: 'terminated', preempted: req.spec.spot }
    );
  }

  async delete(name: string, zone: string): Promise<void> {
    const ctx: FailureContext = { name, zone };
    let op: Operation;
    try {
      // Delete is idempotent (404 = done), so a fresh requestId per call is enough.
      const [lro] = await withTimeout(
        'instances.delete',
        this.callTimeoutMs,
        this.instances.delete({ project: this.projectId, zone, instance: name, requestId: randomUUID() }),
      );
      op = lro.latestResponse as Operation;
    } catch (err) {
      const failure = describeCallFailure(err);
      if (isNotFound(failure)) return;
      throw readError('delete', ctx, failure.httpStatus, err);
    }
    const done = await this.waitDone(op, ctx);
    const codes = (done.error?.errors ?? []).map((e) => e.code ?? '');
    if (codes.length === 0 || codes.includes('RESOURCE_NOT_FOUND')) {
      this.log.info({ name, zone }, 'gce delete done');
      return;
    }
    throw new KumoError('PROVIDER_UNAVAILABLE', `deleting ${name} failed`, {
      retryable: true,
      details: { name, zone, codes },
    });
  }

  async list(): Promise<VmInfo[]> {
    const collect = async (): Promise<VmInfo[]> => {
      const out: VmInfo[] = [];
      const pages = this.instances.aggregatedListAsync(
        {
          project: this.projectId,
          filter: `labels.${this.labelKey} = worker`,
          maxResults: 500,
          returnPartialSuccess: true,
        },
        // The async iterator pages by itself; autoPaginate (on by default) only draws a warning here.
        { timeout: this.callTimeoutMs, autoPaginate: false },
      );
      for await (const [scope, scoped] of pages) {
        const zone = scope.startsWith('zones/') ? scope.slice('zones/'.length) : undefined;
        for (const inst of scoped.instances ?? []) out.push(toVmInfo(inst, this.labelKey, zone));
      }
      return out;
    };
    try {
      // One limit for all pages: a fleet of a few hundred VMs is one or two pages.
      return await withTimeout('instances.aggregatedList', this.callTimeoutMs * 2, collect());
    } catch (err) {
      throw readError('list', { name: '*', zone: '*' }, describeCallFailure(err).httpStatus, err);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const results = await Promise.allSettled([
        this.instances.close(),
        this.operations.close(),
        this.placement.close(),
      ]);
      for (const r of results) if (r.status === 'rejected') this.log.warn({ err: r.reason }, 'gce client close failed');
    })();
    return this.closing;
  }

  /** The instance, or undefined on 404. */
  private async get(name: string, zone: string): Promise<VmInfo | undefined> {
    try {
      const [inst] = await withTimeout(
        'instances.get',
        this.callTimeoutMs,
        this.instances.get({ project: this.projectId, zone, instance: name }, { timeout: this.callTimeoutMs }),
      );
      return toVmInfo(inst, this.labelKey, zone);
    } catch (err) {
      const failure = describeCallFailure(err);
      if (isNotFound(failure)) return undefined;
      throw readError('get', { name, zone }, failure.httpStatus, err);
    }
  }

  /** A create that collided with its own name: return the instance an earlier try made, if it is ours. */
  private async adopt(ctx: FailureContext, cause: unknown): Promise<VmInfo> {
    const [inst] = await withTimeout(
      'instances.get',
      this.callTimeoutMs,
      this.instances.get(
        { project: this.projectId, zone: ctx.zone, instance: ctx.name },
        { timeout: this.callTimeoutMs },
      ),
    ).catch((err: unknown) => {
      // 409 and then 404: it existed a moment ago and is gone (deleted, reclaimed). Let the caller reconcile.
      throw isNotFound(describeCallFailure(err))
        ? unknownOutcome(ctx, err)
        : readError('get', ctx, describeCallFailure(err).httpStatus, err);
    });
    if (inst.labels?.[this.labelKey] !== 'worker') {
      throw new KumoError(
        'PROVIDER_REJECTED',
        `an instance named ${ctx.name} exists in ${ctx.zone} and is not kumo's`,
        {
          cause,
          details: { ...ctx },
        },
      );
    }
    this.log.info({ ...ctx }, 'gce insert found its instance already there');
    return toVmInfo(inst, this.labelKey, ctx.zone);
  }

  /**
   * Waits until the zone operation is DONE. Wait calls that fail for a moment are repeated until the
   * deadline; past it, the create's outcome is unknown (the operation may still finish).
   */
  private async waitDone(op: Operation, ctx: FailureContext): Promise<Operation> {
    const deadline = Date.now() + this.operationTimeoutMs;
    let current = op;
    while (current.status !== 'DONE') {
      const left = deadline - Date.now();
      if (left <= 0 || !current.name) {
        throw unknownOutcome(ctx, undefined, { operation: op.name, operationTimeoutMs: this.operationTimeoutMs });
      }
      try {
        [current] = await withTimeout(
          'zoneOperations.wait',
          Math.min(left, WAIT_CALL_LIMIT_MS),
          this.operations.wait({ project: this.projectId, zone: ctx.zone, operation: current.name }),
        );
      } catch (err) {
        const failure = describeCallFailure(err);
        if (isNotFound(failure)) throw unknownOutcome(ctx, err, { operation: op.name });
        this.log.warn(
          { ...ctx, operation: op.name, httpStatus: failure.httpStatus, timedOut: failure.timedOut },
          'gce operation wait failed',
        );
        await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
      }
    }
    return current;
  }
}
