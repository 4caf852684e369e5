export { Provisioner, type ProvisionerOptions, type ProvisionerState } from './provisioner';
export { LocalProvider, type LocalProviderOptions } from './providers/local-provider';
export { localWorkerArgv } from './providers/local-worker-argv';
export { createProvider } from './providers/create-provider';
export { parseProvisionerEnv, type ProvisionerEnv } from './env';
export { GceProvider, type GceProviderOptions } from './providers/gce-provider';
export { describeCallFailure, insertCallError, operationError } from './providers/gce-errors';
export { loadWorkerStartupScript, WORKER_STARTUP_SCRIPT_PATH } from './providers/startup-script';
