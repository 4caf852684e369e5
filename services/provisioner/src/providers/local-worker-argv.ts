import { fileURLToPath } from 'node:url';

/** How this checkout starts one worker process: node with the TypeScript loader, on the worker's main. */
export function localWorkerArgv(): string[] {
  const main = fileURLToPath(new URL('../../../worker/src/main.ts', import.meta.url));
  return [process.execPath, '--import', 'tsx', main];
}
