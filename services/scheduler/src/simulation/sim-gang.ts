import type { Gang } from '@kumo/shared';
import type { SimTaskRun } from './sim-provider';

/**
 * The simulated rendezvous of a gang training job (a simulation rehearses one job): ranks taken by
 * VMs wait, holding their VM, until every rank is taken; then all start together and run as long as
 * each other. When one rank's run ends any way but success (its VM preempted, its trainer failed),
 * the generation ends: every other rank is stopped and handed back, and the gang meets again, as
 * GangStore and the workers do it for real.
 */
export class SimGang<R extends SimTaskRun> {
  /** The ranks of the current generation, taken so far. */
  private generation: R[] = [];

  constructor(readonly gang: Gang) {}

  /** A rank taken: the whole generation when this was the last rank to come (all start now), else none. */
  join(run: R): R[] {
    this.generation.push(run);
    return this.generation.length === this.gang.size ? [...this.generation] : [];
  }

  /** A rank's run ended well: it leaves the generation (ending it when it was the last). */
  finished(run: R): void {
    this.generation = this.generation.filter((r) => r !== run);
  }

  /** A rank's run ended badly: the generation is over; returns its other ranks, to be handed back. */
  broken(run: R): R[] {
    const others = this.generation.filter((r) => r !== run);
    this.generation = [];
    return others;
  }
}
