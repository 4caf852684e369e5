import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_SRC = join(here, 'src');
/** What the API serves (services/api/src/routes/dashboard.ts); git-ignored, rebuilt by `npm run build:web`. */
export const WEB_DIST = join(here, 'dist');

/**
 * Bundles the dashboard: src/main.ts and its modules into one ES module (no CDN, nothing fetched at
 * run time), plus index.html and styles.css copied beside it. Types are checked apart
 * (`npm run typecheck`); esbuild only strips them, which keeps this under a second.
 */
export async function buildWeb(opts: { outDir?: string; minify?: boolean } = {}): Promise<string> {
  const out = opts.outDir ?? WEB_DIST;
  // Built beside the folder, then each file renamed into it: a server reading the folder meanwhile
  // (a running control plane, a test in another worker) sees the old file or the new, never none.
  const staging = `${out}.staging-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    await build({
      entryPoints: [join(WEB_SRC, 'main.ts')],
      bundle: true,
      format: 'esm',
      target: ['chrome111', 'firefox113', 'safari16.4'],
      outfile: join(staging, 'app.js'),
      minify: opts.minify ?? true,
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'warning',
    });
    await copyFile(join(WEB_SRC, 'index.html'), join(staging, 'index.html'));
    await copyFile(join(WEB_SRC, 'styles.css'), join(staging, 'styles.css'));
    await mkdir(out, { recursive: true });
    for (const name of await readdir(staging)) await rename(join(staging, name), join(out, name));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildWeb();
  console.log(`dashboard built into ${out}`);
}
