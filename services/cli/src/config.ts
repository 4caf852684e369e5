import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { usageError } from './cli-error';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface CliConfig {
  /** The API's base URL, without a trailing slash. */
  url: string;
  token: string | undefined;
  /** Where the token came from, for the hint when the API refuses it. */
  tokenSource: 'KUMO_TOKEN' | { file: string } | 'none';
}

/**
 * `.kumo/admin-token` in `from` or the nearest folder above it: `npm start` writes it at the checkout's
 * root, and the CLI is often run from a folder inside the checkout.
 */
export function findAdminTokenFile(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, '.kumo', 'admin-token');
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * No `--token` flag on purpose: a token on the command line is visible to every user in `ps` and lands
 * in shell history.
 */
export function resolveConfig(opts: { urlFlag: string | undefined; env: NodeJS.ProcessEnv; cwd: string }): CliConfig {
  const raw = opts.urlFlag ?? (opts.env.KUMO_URL || undefined) ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`not a URL: '${raw}'`, 'give --url (or KUMO_URL) as http://host:port');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`not an http(s) URL: '${raw}'`);
  const base = url.toString().replace(/\/+$/, '');

  const envToken = opts.env.KUMO_TOKEN?.trim();
  if (envToken) return { url: base, token: envToken, tokenSource: 'KUMO_TOKEN' };
  const file = findAdminTokenFile(opts.cwd);
  if (file) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return { url: base, token, tokenSource: { file } };
  }
  return { url: base, token: undefined, tokenSource: 'none' };
}
