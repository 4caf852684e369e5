import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KumoError } from '../errors';
import { checkArtifactKey, checkArtifactPrefix } from './artifact-key';
import type { ArtifactStore } from './artifact-store';

export interface LocalArtifactStoreOptions {
  /** The folder that holds the artifacts (created on first write), e.g. `.kumo/artifacts`. */
  root: string;
}

/** Where half-written files wait before their rename; never listed, never a key. */
const TMP_DIR = '.kumo-tmp';

/**
 * Artifacts in a local folder: the local default of the artifact seam. Writes go to a temporary file
 * and are renamed into place, so a reader never sees half an artifact and a crash leaves no torn one.
 * Unlike GCS, a folder cannot hold both `a` and `a/b`: such a put fails with CONFLICT.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly kind = 'local' as const;
  readonly root: string;

  constructor(opts: LocalArtifactStoreOptions) {
    this.root = resolve(opts.root);
  }

  async put(key: string, body: Buffer | string, _opts?: { contentType?: string }): Promise<void> {
    const path = this.pathOf(key);
    const tmpDir = join(this.root, TMP_DIR);
    const tmp = join(tmpDir, randomUUID());
    await mkdir(tmpDir, { recursive: true });
    try {
      // Readable by kumo's own user only: the folder is on the way to tasks' checkpoint folders, so tasks
      // (of every submitter) pass through it, and a task log may hold what its submitter printed.
      await writeFile(tmp, body, { mode: 0o600 });
      await mkdir(dirname(path), { recursive: true });
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      if (isCode(err, 'ENOTDIR', 'EISDIR', 'EEXIST')) {
        throw new KumoError('CONFLICT', 'artifact key collides with another key used as a folder', {
          cause: err,
          details: { key },
        });
      }
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkArtifactPrefix(prefix);
    // Walk only the folder the prefix names in full: "jobs/1/ta" -> jobs/1, then filter by name.
    const cut = prefix.lastIndexOf('/');
    const base = cut >= 0 ? prefix.slice(0, cut) : '';
    const out: string[] = [];
    await this.walk(base, out);
    return out.filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    // Drop folders left empty, so that list() and the disk stay tidy; stop at the first non-empty one.
    for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  uri(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  private pathOf(key: string): string {
    checkArtifactKey(key);
    if (key === TMP_DIR || key.startsWith(`${TMP_DIR}/`)) {
      throw new KumoError('INVALID_INPUT', `artifact keys may not start with ${TMP_DIR}`, { details: { key } });
    }
    const path = resolve(this.root, ...key.split('/'));
    // checkArtifactKey already refuses '..' and absolute keys; this is the belt to those braces.
    if (!path.startsWith(this.root + sep))
      throw new KumoError('INVALID_INPUT', 'artifact key leaves the store', { details: { key } });
    return path;
  }

  private async walk(rel: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(rel ? join(this.root, ...rel.split('/')) : this.root, { withFileTypes: true });
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    for (const e of entries) {
      const key = rel ? `${rel}/${e.name}` : e.name;
      if (key === TMP_DIR) continue;
      if (e.isDirectory()) await this.walk(key, out);
      else if (e.isFile()) out.push(key);
    }
  }
}

function isCode(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as { code?: string }).code ?? '');
}
