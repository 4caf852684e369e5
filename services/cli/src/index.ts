// What the CLI's tests use of it; the CLI itself runs from src/main.ts.
export { apiError } from './api/api-error';
export { readSse, type SseEvent } from './api/sse';
export type { Progress } from './api/types';
export { splitGlobalArgs } from './cli';
export { DEFAULT_URL, resolveConfig } from './config';
export { EXIT } from './exit-codes';
export { formatEta } from './format/numbers';
export { finalCounts, progressLine } from './format/progress';
export { renderTable } from './format/table';
