export { buildApp, type ApiOptions } from './app';
export { limitsEnvShape, limitsFromEnv, listingEnvShape, parseApiEnv, type ApiEnv } from './env';
export { listingOptionsFromEnv, type ListingOptions } from './listings/listing-options';
export { DEFAULT_LIMITS, type ApiLimits } from './limits';
