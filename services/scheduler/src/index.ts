export { Scheduler, type SchedulerOptions, type SchedulerState } from './scheduler';
export { parseSchedulerEnv, type SchedulerEnv } from './env';
export { allocate } from './feeder';
