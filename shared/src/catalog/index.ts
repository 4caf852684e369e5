import { z } from 'zod';
import { cleaningInputs, cleaningSchema, cleaningShards } from './cleaning';
import { extractionBatches, extractionInputs, extractionSchema, listedRange } from './extraction';
import { evaluationPair, evaluationSchema } from './evaluation';
import { gangOf, trainingSchema } from './training';

export * from './common';
export type { ExtractionSpec } from './extraction';
export type { CleaningSpec } from './cleaning';
export type { TrainingSpec, Gang } from './training';
export { gangOf, MAX_GANG_NODES } from './training';
export type { EvaluationSpec } from './evaluation';

/** Every job kind, validated at the API and again when a worker picks a task up. */
export const jobSpecSchema = z.discriminatedUnion('kind', [
  extractionSchema,
  cleaningSchema,
  trainingSchema,
  evaluationSchema,
]);
export type JobSpec = z.infer<typeof jobSpecSchema>;
/** What a caller sends: defaults not yet filled. */
export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type JobKind = JobSpec['kind'];
export const JOB_KINDS = ['extraction', 'cleaning', 'training', 'evaluation'] as const satisfies readonly JobKind[];

interface KindPolicy {
  /** What `progress.unit` says. */
  unit: string;
  timeoutSeconds: number;
  maxAttempts: number;
  backoffSeconds: number;
  maxInfraRetries: number;
  /** After SIGTERM (cancel, hand-back, timeout), how long the task may take to stop before SIGKILL. */
  stopGraceSeconds: number;
}

/** Retry and timeout policy per kind: one place, used by the API (to fill the job) and the worker. */
export const KIND_POLICY: Record<JobKind, KindPolicy> = {
  extraction: {
    unit: 'batches',
    timeoutSeconds: 3600,
    maxAttempts: 3,
    backoffSeconds: 5,
    maxInfraRetries: 5,
    stopGraceSeconds: 5,
  },
  cleaning: {
    unit: 'shards',
    timeoutSeconds: 3600,
    maxAttempts: 3,
    backoffSeconds: 5,
    maxInfraRetries: 5,
    stopGraceSeconds: 5,
  },
  // A trainer gets the spot VM's grace to write a checkpoint (GCE gives ~30 s after the notice).
  training: {
    unit: 'runs',
    timeoutSeconds: 14 * 86_400,
    maxAttempts: 5,
    backoffSeconds: 30,
    maxInfraRetries: 50,
    stopGraceSeconds: 25,
  },
  evaluation: {
    unit: 'evaluations',
    timeoutSeconds: 4 * 3600,
    maxAttempts: 2,
    backoffSeconds: 10,
    maxInfraRetries: 10,
    stopGraceSeconds: 5,
  },
};

/** The policy a job actually runs with: the kind's defaults under the spec's overrides. */
export interface EffectivePolicy {
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  maxInfraRetries: number;
  maxFailedTasks: number;
  stopGraceMs: number;
  /** 0 = off. */
  quarantineAfterWorkers: number;
}

export function effectivePolicy(spec: JobSpec): EffectivePolicy {
  const p = KIND_POLICY[spec.kind];
  return {
    timeoutMs: (spec.timeoutSeconds ?? p.timeoutSeconds) * 1000,
    maxAttempts: spec.retry.maxAttempts ?? p.maxAttempts,
    backoffMs: (spec.retry.backoffSeconds ?? p.backoffSeconds) * 1000,
    maxInfraRetries: spec.retry.maxInfraRetries ?? p.maxInfraRetries,
    maxFailedTasks: spec.failurePolicy.maxFailedTasks,
    stopGraceMs: p.stopGraceSeconds * 1000,
    quarantineAfterWorkers: spec.retry.quarantineAfterWorkers ?? 2,
  };
}

export function unitOf(spec: JobSpec): string {
  if (spec.kind === 'extraction' && spec.batchSize > 1) return 'tasks';
  if (gangOf(spec)) return 'nodes';
  return KIND_POLICY[spec.kind].unit;
}

/** How many tasks the job is cut into. O(1): the job is a record and a range, never a list of tasks. */
export function taskCount(spec: JobSpec): number {
  switch (spec.kind) {
    case 'extraction':
      return Math.ceil(extractionBatches(spec) / spec.batchSize);
    case 'cleaning':
      return cleaningShards(spec);
    case 'training':
      // A gang's ranks are its tasks (index = rank).
      return gangOf(spec)?.size ?? 1;
    case 'evaluation':
      return spec.checkpoints.length * spec.benchmarks.length;
  }
}

/**
 * The lines [from, to) of the job's stored listing that task `index` reads, when its inputs live in the
 * store rather than in the spec (an extraction from `source.listing`); undefined otherwise. Callers
 * fetch them (JobStore.listedInputs) and pass them to taskInputs / taskEnvironment as `listed`.
 */
export function listedInputRange(spec: JobSpec, index: number): { from: number; to: number } | undefined {
  return spec.kind === 'extraction' ? listedRange(spec, index) : undefined;
}

/**
 * What one task works on, given to the task as KUMO_TASK_INPUTS (and its kind-specific variables).
 * `listed`: the task's lines of a listing job's stored listing (see listedInputRange); required there.
 */
export function taskInputs(
  spec: JobSpec,
  index: number,
  listed?: string[],
): { inputs: string[]; env: Record<string, string> } {
  switch (spec.kind) {
    case 'extraction':
      return { inputs: extractionInputs(spec, index, listed), env: { KUMO_SNAPSHOT: spec.source.snapshot } };
    case 'cleaning':
      return {
        inputs: cleaningInputs(spec, index),
        // Steps go to the task only when the spec lists them; otherwise the pipeline's name says it all.
        env: spec.pipeline
          ? {
              KUMO_PIPELINE: spec.pipeline.name,
              ...(spec.pipeline.steps.length ? { KUMO_PIPELINE_STEPS: JSON.stringify(spec.pipeline.steps) } : {}),
            }
          : {},
      };
    case 'training':
      return {
        inputs: [],
        env: {
          KUMO_MODEL: spec.model.name,
          KUMO_TARGET_STEPS: String(spec.target.steps),
          ...(spec.target.tokens ? { KUMO_TARGET_TOKENS: String(spec.target.tokens) } : {}),
          ...(spec.checkpoint.everySteps ? { KUMO_CHECKPOINT_EVERY: String(spec.checkpoint.everySteps) } : {}),
        },
      };
    case 'evaluation': {
      const pair = evaluationPair(spec, index);
      return { inputs: [pair.checkpoint], env: { KUMO_CHECKPOINT: pair.checkpoint, KUMO_BENCHMARK: pair.benchmark } };
    }
  }
}

/** An attempt's failure is final when it cannot be retried or was the last attempt the policy allows. */
export function isFinalFailure(
  retryable: boolean,
  attempt: number,
  policy: Pick<EffectivePolicy, 'maxAttempts'>,
): boolean {
  return !retryable || attempt >= policy.maxAttempts;
}
