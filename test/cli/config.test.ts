import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_URL, EXIT, resolveConfig } from '@kumo/cli';

describe('resolveConfig', () => {
  let root: string;
  let deep: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kumo-cli-config-'));
    deep = join(root, 'services', 'cli');
    mkdirSync(deep, { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('--url beats KUMO_URL beats the default; a trailing slash is dropped', () => {
    expect(resolveConfig({ urlFlag: 'http://a:1/', env: { KUMO_URL: 'http://b:2' }, cwd: deep }).url).toBe(
      'http://a:1',
    );
    expect(resolveConfig({ urlFlag: undefined, env: { KUMO_URL: 'http://b:2' }, cwd: deep }).url).toBe('http://b:2');
    expect(resolveConfig({ urlFlag: undefined, env: {}, cwd: deep }).url).toBe(DEFAULT_URL);
  });

  it('finds .kumo/admin-token in a folder above the cwd; KUMO_TOKEN wins over it', () => {
    mkdirSync(join(root, '.kumo'));
    const file = join(root, '.kumo', 'admin-token');
    writeFileSync(file, 'from-the-file\n');
    expect(resolveConfig({ urlFlag: undefined, env: {}, cwd: deep })).toMatchObject({
      token: 'from-the-file',
      tokenSource: { file },
    });
    expect(resolveConfig({ urlFlag: undefined, env: { KUMO_TOKEN: 'from-env' }, cwd: deep })).toMatchObject({
      token: 'from-env',
      tokenSource: 'KUMO_TOKEN',
    });
  });

  it('no token anywhere: none, so the API says 401 and the CLI says where tokens come from', () => {
    expect(resolveConfig({ urlFlag: undefined, env: {}, cwd: deep })).toMatchObject({
      token: undefined,
      tokenSource: 'none',
    });
  });

  it('a URL that is not http(s) is a usage error', () => {
    expect(() => resolveConfig({ urlFlag: 'localhost:8080', env: {}, cwd: deep })).toThrow(
      expect.objectContaining({ exitCode: EXIT.USAGE }),
    );
    expect(() => resolveConfig({ urlFlag: 'not a url', env: {}, cwd: deep })).toThrow(
      expect.objectContaining({ exitCode: EXIT.USAGE }),
    );
  });
});
