import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KumoError } from '@kumo/shared';

/** The worker VM's startup script, kept as a real .sh file so shellcheck and Terraform read the same text. */
export const WORKER_STARTUP_SCRIPT_PATH = fileURLToPath(new URL('./worker-startup.sh', import.meta.url));

/** Compute Engine's limit for one metadata value. */
const METADATA_VALUE_MAX_BYTES = 256 * 1024;

/** Reads the startup script; a missing, empty or oversized one is a configuration error at start-up. */
export function loadWorkerStartupScript(path: string = WORKER_STARTUP_SCRIPT_PATH): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new KumoError('CONFIG_INVALID', `worker startup script not readable at ${path}`, { cause });
  }
  if (!text.startsWith('#!')) throw new KumoError('CONFIG_INVALID', `worker startup script at ${path} has no #! line`);
  if (Buffer.byteLength(text) > METADATA_VALUE_MAX_BYTES) {
    throw new KumoError('CONFIG_INVALID', `worker startup script at ${path} exceeds the 256 KiB metadata limit`);
  }
  return text;
}
