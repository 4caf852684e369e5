import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  japaneseShare,
  makeSampleWarcs,
  readJsonl,
  runPython,
  SAMPLE_JAPANESE,
  workerEnv,
  type SampleWarcs,
} from './task-process';

const EXTRACT = 'extract-ja/extract.py';
const run = { command: ['python3', 'examples/extract-ja/extract.py'] };

describe('examples/extract-ja: Japanese pages out of WARC files', () => {
  let tmp: string;
  let sample: SampleWarcs;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-extract-'));
    sample = makeSampleWarcs(join(tmp, 'cc'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const spec = (out: string, extra: Record<string, unknown> = {}) => ({
    kind: 'extraction' as const,
    name: 'extract-sample',
    source: { snapshot: 'CC-MAIN-SAMPLE', paths: sample.absolute },
    output: { prefix: out },
    run,
    ...extra,
  });

  it('keeps exactly the Japanese pages of each file (UTF-8, Shift_JIS, EUC-JP), drops the rest, counts corrupt records', async () => {
    const out = join(tmp, 'per-file');
    const expected = [
      { docsIn: 6, docsOut: 3, recordsSkipped: 1, dropped: { notJapanese: 2, notHtml: 1 } },
      { docsIn: 5, docsOut: 2, recordsSkipped: 0, dropped: { notJapanese: 1, notHtml: 1, httpStatus: 1 } },
      { docsIn: 2, docsOut: 1, recordsSkipped: 1, dropped: { notJapanese: 1 } },
    ];
    const charsets = new Set<string>();
    for (const [i, want] of expected.entries()) {
      const env = workerEnv(spec(out), i);
      expect(JSON.parse(env.KUMO_TASK_INPUTS!)).toEqual([sample.absolute[i]]);
      const r = await runPython(EXTRACT, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.resultLines).toBe(1);
      const file = join(out, `task-${i}`, 'ja.jsonl');
      expect(r.result).toMatchObject({
        ...want,
        output: file,
        bytesIn: statSync(sample.absolute[i]!).size,
        bytesOut: statSync(file).size,
        inputs: 1,
      });
      const docs = readJsonl(file);
      expect(docs.map((d) => d.url)).toEqual(SAMPLE_JAPANESE[i]);
      for (const d of docs) {
        expect(Object.keys(d).sort()).toEqual([
          'charset',
          'charset_source',
          'ja_ratio',
          'snapshot',
          'text',
          'title',
          'url',
          'warc_date',
          'warc_file',
          'warc_record_id',
        ]);
        expect(d.warc_record_id).toMatch(/^<urn:uuid:[0-9a-f-]{36}>$/);
        expect(d.snapshot).toBe('CC-MAIN-SAMPLE');
        expect(d.title.length).toBeGreaterThan(5);
        expect(japaneseShare(d.text)).toBeGreaterThan(0.8);
        // Script and style contents are not text; markup is gone.
        expect(d.text).not.toMatch(/スクリプトの中|スタイルの中|dataLayer|<\/?[a-z]+[ >]/);
        charsets.add(`${d.charset}/${d.charset_source}`);
      }
      if (want.recordsSkipped) expect(r.stderr).toContain('skipped a corrupt record');
    }
    // The three charsets, each found the way the page declared it (or did not).
    expect([...charsets].sort()).toEqual([
      'euc-jp/http',
      'shift_jis/detected',
      'shift_jis/meta',
      'utf-8/http',
      'utf-8/meta',
    ]);

    const byUrl = new Map(
      [0, 1, 2].flatMap((i) => readJsonl(join(out, `task-${i}`, 'ja.jsonl')).map((d) => [d.url, d] as const)),
    );
    const kyoto = byUrl.get('https://travel.example.jp/blog/2023/11/kyoto-koyo')!;
    expect(kyoto.title).toBe('京都の紅葉を歩く週末 | 旅とごはんの記録');
    expect(kyoto.text).toContain('境内のもみじは見事に色づいていて'); // a source line break between Japanese characters is no space
    expect(kyoto.text).toContain('© 2023 旅とごはんの記録 & friends'); // character references decoded
    expect(kyoto.text.split('\n')).toContain('昼ごはんは湯豆腐'); // block elements on lines of their own
    expect(byUrl.get('https://recipe.example.jp/nikujaga.html')!.text).toContain('① じゃがいもは皮をむいて'); // cp932-only character
    expect(byUrl.get('https://library.example.jp/news/2023-12-01.html')!.text).toContain('返却ポスト');
    expect(byUrl.get('https://shop.example.jp/faq')!.text).toContain('送料はいくらですか');
    expect(byUrl.get('https://weather.example.jp/weekend')!.text).toContain('洗濯物は週末のうちに'); // gzip'd body, wrong HTTP charset
    expect(byUrl.has('https://news.example.cn/autumn/beijing.html')).toBe(false);
    expect(byUrl.has('https://travel.example.jp/blog/2023/11/truncated')).toBe(false);
    expect(byUrl.has('https://hiking.example.jp/broken')).toBe(false);
  });

  it('takes a batch of files, relative to KUMO_INPUT_ROOT, in one task', async () => {
    const out = join(tmp, 'batched');
    const env = workerEnv({
      ...spec(out),
      source: { snapshot: 'CC-MAIN-SAMPLE', paths: sample.relative },
      batchSize: 3,
      env: { KUMO_INPUT_ROOT: sample.dir },
    });
    const r = await runPython(EXTRACT, env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.result).toMatchObject({
      inputs: 3,
      docsIn: 13,
      docsOut: 6,
      recordsSkipped: 2,
      charsets: { 'utf-8': 3, shift_jis: 2, 'euc-jp': 1 },
    });
    expect(readJsonl(r.result!.output).map((d) => d.url)).toEqual(SAMPLE_JAPANESE.flat());
  });

  it("turns a snapshot's batch number into a path with the snapshot's warc.paths", async () => {
    const out = join(tmp, 'by-batch');
    const s = {
      kind: 'extraction' as const,
      name: 'by-batch',
      source: { snapshot: 'CC-MAIN-SAMPLE', batches: 3 },
      output: { prefix: out },
      run,
      env: { KUMO_INPUT_ROOT: sample.dir, WARC_PATHS: 'warc.paths' },
    };
    const env = workerEnv(s, 1);
    expect(JSON.parse(env.KUMO_TASK_INPUTS!)).toEqual(['CC-MAIN-SAMPLE/batch-1']);
    const r = await runPython(EXTRACT, env);
    expect(r.code, r.stderr).toBe(0);
    expect(readJsonl(r.result!.output).map((d) => d.url)).toEqual(SAMPLE_JAPANESE[1]);
    const without = await runPython(EXTRACT, workerEnv({ ...s, env: { KUMO_INPUT_ROOT: sample.dir } }, 1));
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('is a batch number, not a WARC file');
  });

  describe('from an HTTP server, as from https://data.commoncrawl.org/', () => {
    let server: Server;
    let root: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        const path = normalize(join(sample.dir, decodeURIComponent(req.url ?? '/')));
        if (!path.startsWith(sample.dir) || !statSync(path, { throwIfNoEntry: false })?.isFile()) {
          res.writeHead(404).end('not found');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        createReadStream(path).pipe(res);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      root = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('streams relative inputs from a URL root', async () => {
      const r = await runPython(
        EXTRACT,
        workerEnv(
          {
            ...spec(join(tmp, 'http')),
            source: { snapshot: 'CC-MAIN-SAMPLE', paths: sample.relative },
            env: { KUMO_INPUT_ROOT: root },
          },
          0,
        ),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.result).toMatchObject({ docsOut: 3, recordsSkipped: 1, bytesIn: statSync(sample.absolute[0]!).size });
    });

    it('a missing URL fails the task', async () => {
      const r = await runPython(
        EXTRACT,
        workerEnv(
          {
            ...spec(join(tmp, 'http-404')),
            source: { snapshot: 'CC-MAIN-SAMPLE', paths: ['nope.warc.gz'] },
            env: { KUMO_INPUT_ROOT: root },
          },
          0,
        ),
      );
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/cannot open input 'nope\.warc\.gz'.*404/);
    });
  });

  it('an unreadable input fails the task with a clear message and leaves no output, not even half of one', async () => {
    const out = join(tmp, 'missing');
    const env = workerEnv({
      ...spec(out),
      source: { snapshot: 'CC-MAIN-SAMPLE', paths: [sample.absolute[0]!, join(tmp, 'no-such.warc.gz')] },
      batchSize: 2,
    });
    const r = await runPython(EXTRACT, env);
    expect(r.code).toBe(3);
    expect(r.result).toBeUndefined();
    expect(r.stderr).toContain(`error: cannot open input '${join(tmp, 'no-such.warc.gz')}'`);
    expect(r.stderr).toContain('No such file or directory');
    expect(readdirSync(join(out, 'task-0'))).toEqual([]);
  });

  it('a retried attempt replaces the output whole: same content, no temporaries left', async () => {
    const out = join(tmp, 'retried');
    const first = await runPython(EXTRACT, workerEnv(spec(out), 2, { attempt: 1 }));
    const before = readFileSync(first.result!.output, 'utf8');
    const second = await runPython(EXTRACT, workerEnv(spec(out), 2, { attempt: 2 }));
    expect(second.code).toBe(0);
    expect(readFileSync(second.result!.output, 'utf8')).toBe(before);
    expect(readdirSync(join(out, 'task-2'))).toEqual(['ja.jsonl']);
  });

  it('says what is missing when the job has no output prefix', async () => {
    const s = spec('x');
    delete (s as { output?: unknown }).output;
    const r = await runPython(EXTRACT, workerEnv(s, 0));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no output folder');
  });
});
