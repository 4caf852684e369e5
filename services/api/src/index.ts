export { buildApp, type ApiOptions } from './app';
export { parseApiEnv, type ApiEnv } from './env';
