export { buildApp, type ApiOptions } from './app';
export {
  limitsEnvShape,
  limitsFromEnv,
  listingEnvShape,
  parseApiEnv,
  taskLogsEnvShape,
  taskLogStoreFromEnv,
  type ApiEnv,
} from './env';
export { listingOptionsFromEnv, type ListingOptions } from './listings/listing-options';
export { DEFAULT_LIMITS, type ApiLimits } from './limits';
export { BusMetrics } from './metrics/bus-metrics';
export { JobFold } from './metrics/job-fold';
export { addressKey } from './plugins/auth-failures';
export { installErrorHandler } from './plugins/error-handler';
export { PoolQueues } from './pool-queues';
export { dashboardRoutes } from './routes/dashboard';
export { LIST_EXAMINE_MAX } from './routes/job-pages';
export { errorSchema, jobRecordSchema } from './routes/schemas';
export { LeaseBroker } from './workers/lease-broker';
