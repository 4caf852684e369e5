import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { grantDirectory, type GrantFs } from './grant-directory';

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/**
 * node:fs, except that another worker makes each folder named in `race` a moment before this one tries
 * (as two ranks of a gang starting together on one machine's workers do), then chowns it to `uid`.
 */
function losingTo(race: Set<string>, uid: number, gid: number): GrantFs & { chowned: string[] } {
  const chowned: string[] = [];
  return {
    chowned,
    lstatSync: fs.lstatSync,
    chownSync: (path, u, g) => {
      chowned.push(String(path));
      fs.chownSync(path, u, g);
    },
    mkdirSync: ((path: fs.PathLike, opts?: fs.MakeDirectoryOptions) => {
      if (race.delete(String(path))) {
        fs.mkdirSync(path, opts);
        fs.chownSync(path, uid, gid);
      }
      return fs.mkdirSync(path, opts);
    }) as GrantFs['mkdirSync'],
  };
}

describe('grantDirectory', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('makes the missing folders under a data root, the last one its task’s', () => {
    root = mkdtempSync(join(tmpdir(), 'kumo-grant-'));
    const dir = join(root, 'jobs', 'job_1', 'checkpoints');
    const spy = losingTo(new Set(), me.uid, me.gid);
    expect(grantDirectory([root], dir, me.uid, me.gid, spy)).toBe(true);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    expect(spy.chowned).toEqual([dir]);
  });

  it('when another worker makes the same folders at the same moment, checks theirs instead of failing', () => {
    root = mkdtempSync(join(tmpdir(), 'kumo-grant-'));
    const job = join(root, 'jobs', 'job_1');
    const dir = join(job, 'checkpoints');
    // The other worker wins the race for the job's folder and for its checkpoint folder.
    const racing = losingTo(new Set([job, dir]), me.uid, me.gid);
    expect(grantDirectory([root], dir, me.uid, me.gid, racing)).toBe(true);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    // Only the folder this call made itself ('jobs') was its to hand over; the last was the winner's.
    expect(racing.chowned).toEqual([]);
  });

  it('still refuses what it finds, race or not: a symlink in the way', () => {
    const data = (root = mkdtempSync(join(tmpdir(), 'kumo-grant-')));
    fs.mkdirSync(join(data, 'jobs'));
    fs.symlinkSync(tmpdir(), join(data, 'jobs', 'job_1'));
    expect(() => grantDirectory([data], join(data, 'jobs', 'job_1', 'checkpoints'), me.uid, me.gid)).toThrow(
      expect.objectContaining({ code: 'TASK_PATH_REFUSED' }),
    );
  });

  it('does nothing for a folder outside every data root', () => {
    root = mkdtempSync(join(tmpdir(), 'kumo-grant-'));
    expect(grantDirectory([join(root, 'data')], join(root, 'elsewhere', 'x'), me.uid, me.gid)).toBe(false);
    expect(fs.existsSync(join(root, 'elsewhere'))).toBe(false);
  });
});
