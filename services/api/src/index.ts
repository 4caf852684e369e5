export { buildApp, type ApiOptions } from './app';
export { limitsEnvShape, limitsFromEnv, parseApiEnv, type ApiEnv } from './env';
export { DEFAULT_LIMITS, type ApiLimits } from './limits';
