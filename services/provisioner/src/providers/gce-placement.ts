import { RegionOperationsClient, ResourcePoliciesClient, type protos } from '@google-cloud/compute';
import { KumoError, type Logger, type PlacementPolicyRequest } from '@kumo/shared';
import { withTimeout } from './call-timeout-error';
import { describeCallFailure, isAlreadyExists } from './gce-errors';
import type { ClientOptions } from './gce-provider-options';

type Operation = protos.google.cloud.compute.v1.IOperation;

/**
 * Compact placement policies (resourcePolicies.insert): one per gang, size and region, with
 * groupPlacementPolicy {collocation: COLLOCATED, vmCount}. Names are predictable, so a repeat that
 * meets 409 (its own earlier insert) uses the policy that is there.
 */
export class GcePlacementPolicies {
  private readonly policies: ResourcePoliciesClient;
  private readonly operations: RegionOperationsClient;

  constructor(
    clientOpts: ClientOptions,
    private readonly o: { projectId: string; callTimeoutMs: number; log: Logger },
  ) {
    this.policies = new ResourcePoliciesClient(clientOpts);
    this.operations = new RegionOperationsClient(clientOpts);
  }

  async ensure(req: PlacementPolicyRequest): Promise<string> {
    const url = `projects/${this.o.projectId}/regions/${req.region}/resourcePolicies/${req.name}`;
    const fields = { policy: req.name, region: req.region, vmCount: req.vmCount };
    let op: Operation;
    try {
      const [lro] = await withTimeout(
        'resourcePolicies.insert',
        this.o.callTimeoutMs,
        this.policies.insert({
          project: this.o.projectId,
          region: req.region,
          requestId: req.requestId,
          resourcePolicyResource: {
            name: req.name,
            groupPlacementPolicy: { collocation: 'COLLOCATED', vmCount: req.vmCount },
          },
        }),
      );
      op = lro.latestResponse as Operation;
    } catch (err) {
      const failure = describeCallFailure(err);
      if (isAlreadyExists(failure)) return url;
      throw placementError(req, failure.httpStatus, err);
    }
    const deadline = Date.now() + 5 * 60_000;
    while (op.status !== 'DONE') {
      if (Date.now() > deadline || !op.name) throw placementError(req, undefined, undefined);
      [op] = await withTimeout(
        'regionOperations.wait',
        this.o.callTimeoutMs,
        this.operations.wait({ project: this.o.projectId, region: req.region, operation: op.name }),
      );
    }
    const codes = (op.error?.errors ?? []).map((e) => e.code ?? '');
    if (codes.length > 0 && !codes.includes('RESOURCE_ALREADY_EXISTS')) {
      throw new KumoError('PROVIDER_REJECTED', `placement policy ${req.name} was not made`, {
        details: { ...fields, codes },
      });
    }
    this.o.log.info(fields, 'gce placement policy ready');
    return url;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.policies.close(), this.operations.close()]);
  }
}

/** A 4xx is the request's own fault; anything else may pass (the insert is idempotent by requestId). */
function placementError(req: PlacementPolicyRequest, httpStatus: number | undefined, cause: unknown): KumoError {
  const rejected = httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500 && httpStatus !== 429;
  return new KumoError(
    rejected ? 'PROVIDER_REJECTED' : 'PROVIDER_UNAVAILABLE',
    `placement policy ${req.name} in ${req.region} failed`,
    {
      cause,
      retryable: !rejected,
      details: { policy: req.name, region: req.region, httpStatus },
    },
  );
}
