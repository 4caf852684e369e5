import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateSecret } from '@kumo/shared';

/**
 * KUMO_ADMIN_TOKEN if set; else the one saved in `<dataDir>/admin-token`; else a new one, saved there
 * (mode 600) and shown once. The CLI reads the same file.
 */
export function resolveAdminToken(file: string, fromEnv: string | undefined): { token: string; generated: boolean } {
  if (fromEnv) return { token: fromEnv, generated: false };
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (saved) return { token: saved, generated: false };
  }
  const token = generateSecret();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}
