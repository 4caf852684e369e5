import { Worker } from 'bullmq';
import {
  createRedis,
  Keys,
  SIMULATION_QUEUE,
  type Logger,
  type SimulationInputRaw,
  type SimulationReport,
} from '@kumo/shared';
import { runSimulation } from './simulator';

/**
 * Runs simulations asked for over the API (`POST /v1/simulations` queues them), one at a time per
 * scheduler process: a simulation is CPU and Redis heavy, and must not slow feeding.
 */
export class SimulationRunner {
  private worker: Worker | undefined;

  constructor(private readonly opts: { redisUrl: string; prefix: string; logger: Logger }) {}

  start(): void {
    const log = this.opts.logger.child({ component: 'simulations' });
    this.worker = new Worker<{ input: SimulationInputRaw }, SimulationReport>(
      SIMULATION_QUEUE,
      async (job) => {
        log.info({ simulationId: job.id }, 'simulation started');
        const report = await runSimulation(job.data.input, { redisUrl: this.opts.redisUrl, logger: this.opts.logger });
        log.info(
          { simulationId: job.id, makespanSeconds: report.makespanSeconds, wallSeconds: report.wallSeconds },
          'simulation done',
        );
        return report;
      },
      {
        connection: createRedis(this.opts.redisUrl, 'blocking', 'simulations'),
        prefix: new Keys(this.opts.prefix).queuePrefix(),
        concurrency: 1,
        lockDuration: 60_000,
      },
    );
    this.worker.on('error', (err) => log.warn({ err }, 'simulation worker error'));
  }

  async stop(): Promise<void> {
    await this.worker?.close();
  }
}
