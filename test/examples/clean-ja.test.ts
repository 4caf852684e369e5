import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSampleWarcs, readJsonl, runPython, SAMPLE_JAPANESE, workerEnv } from './task-process';

const CLEAN = 'clean-ja/clean.py';
const run = { command: ['python3', 'examples/clean-ja/clean.py'] };

const NAV = 'ホーム | 会社概要 | お問い合わせ';
const FOOTER = 'Copyright サンプル株式会社 All rights reserved.';
const body = (s: string) => [NAV, s, FOOTER].join('\n');
const A = body(
  '春の公園では、桜の花が咲きはじめました。週末には多くの家族連れがお弁当を持って訪れ、花の下でゆっくりと過ごしていました。',
);
const B = body(
  '新しい図書館が駅の近くにできました。広い閲覧室があり、子ども向けの絵本のコーナーも充実しています。毎日たくさんの人が利用しています。',
);
const C = body(
  'この町の商店街では、毎月第一日曜日に朝市が開かれます。地元の農家が育てた野菜や果物が並び、朝早くから多くの人でにぎわいます。',
);
/** A shard whose outcome under "ja-basic" is known by construction. */
const SHARD = [
  { id: 'a', text: A },
  { id: 'b', text: B },
  { id: 'c', text: C },
  { id: 'a-again', text: A }, // exact duplicate of a
  { id: 'short', text: '短い文です。' }, // under 50 characters
  {
    id: 'fullwidth',
    text: 'ＡＢＣ１２３の製品は、ｶﾀｶﾅで書かれた説明書と一緒に届きます。説明書には使い方と注意点がくわしく書かれているので、はじめての人でも安心です。',
  },
  {
    id: 'repeats',
    text: '同じ行がくりかえされています。\n天気がよい日は、川沿いの道を自転車で走るのが気持ちいいです。風が涼しく、景色もきれいです。\n同じ行がくりかえされています。',
  },
];

describe('examples/clean-ja: a JSONL shard through a cleaning pipeline', () => {
  let tmp: string;
  let shard: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-clean-'));
    shard = join(tmp, 'shard-0.jsonl');
    writeFileSync(
      shard,
      [...SHARD.map((d) => JSON.stringify(d)), 'not json at all', JSON.stringify({ text: 5 }), ''].join('\n'),
    );
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('ja-basic: NFKC, boilerplate and repeated lines out, short and duplicate documents dropped, with counts', async () => {
    const out = join(tmp, 'basic');
    const env = workerEnv({
      kind: 'cleaning',
      name: 'clean',
      input: { shards: [shard] },
      pipeline: { name: 'ja-basic' },
      output: { prefix: out },
      run,
    });
    expect(env.KUMO_PIPELINE).toBe('ja-basic');
    const r = await runPython(CLEAN, env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.result).toMatchObject({
      docsIn: 7,
      docsOut: 5,
      badLines: 2,
      pipeline: 'ja-basic',
      dropped: { min_length: 1, dedup_exact: 1 },
      output: join(out, 'task-0', 'clean.jsonl'),
      manifest: join(out, 'task-0', '_manifest.jsonl'),
    });
    expect(r.result!.steps).toEqual([
      { name: 'nfkc', params: {}, dropped: 0, changed: 1 },
      // the menu and footer of a, b, c and a-again (4 docs each), and the second copy of a line in "repeats"
      { name: 'repeated_lines', params: { min_docs: 3 }, dropped: 0, linesRemoved: 9 },
      { name: 'min_length', params: { min_chars: 50 }, dropped: 1 },
      { name: 'dedup_exact', params: {}, dropped: 1 },
    ]);
    const docs = readJsonl(r.result!.output);
    expect(docs.map((d) => d.id)).toEqual(['a', 'b', 'c', 'fullwidth', 'repeats']);
    expect(docs[0]!.text).toBe(A.split('\n')[1]);
    expect(docs.find((d) => d.id === 'fullwidth')!.text).toMatch(/^ABC123の製品は、カタカナで書かれた/);
    expect(docs.find((d) => d.id === 'repeats')!.text.split('\n')).toHaveLength(2);
    const [manifest, ...more] = readJsonl(r.result!.manifest);
    expect(more).toHaveLength(0);
    expect(manifest).toMatchObject({
      inputs: [shard],
      output: r.result!.output,
      docsIn: 7,
      docsOut: 5,
      job: 'job_examples_test',
      task: '0',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(readdirSync(join(out, 'task-0')).sort()).toEqual(['_manifest.jsonl', 'clean.jsonl']);
  });

  it('takes its steps as JSON (KUMO_PIPELINE_STEPS); a dedup before a whole-shard step still counts each duplicate once', async () => {
    const steps = [
      { name: 'dedup_exact' },
      { name: 'repeated_lines', params: { min_docs: 2 } },
      { name: 'min_length', params: { min_chars: 60 } },
    ];
    const r = await runPython(
      CLEAN,
      workerEnv({
        kind: 'cleaning',
        name: 'custom',
        input: { shards: [shard] },
        output: { prefix: join(tmp, 'custom') },
        env: { KUMO_PIPELINE_STEPS: JSON.stringify(steps) },
        run,
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.result).toMatchObject({
      pipeline: 'custom',
      docsIn: 7,
      dropped: { dedup_exact: 1, min_length: 1 },
      docsOut: 5,
    });
  });

  it("cleans an extraction job's output folders, named by prefix and count", async () => {
    const sample = makeSampleWarcs(join(tmp, 'cc'));
    const extracted = join(tmp, 'extracted');
    const ex = {
      kind: 'extraction' as const,
      name: 'ex',
      source: { snapshot: 'CC-MAIN-SAMPLE', paths: sample.absolute },
      output: { prefix: extracted },
      run: { command: ['python3'] },
    };
    for (const i of [0, 1, 2]) expect((await runPython('extract-ja/extract.py', workerEnv(ex, i))).code).toBe(0);
    const cleaned = join(tmp, 'cleaned');
    const spec = {
      kind: 'cleaning' as const,
      name: 'clean-extracted',
      input: { prefix: `${extracted}/task-`, count: 3 },
      pipeline: { name: 'ja-basic' },
      output: { prefix: cleaned },
      run,
    };
    for (const i of [0, 1, 2]) {
      const env = workerEnv(spec, i);
      expect(JSON.parse(env.KUMO_TASK_INPUTS!)).toEqual([`${extracted}/task-${i}`]);
      const r = await runPython(CLEAN, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.result).toMatchObject({
        docsIn: SAMPLE_JAPANESE[i]!.length,
        docsOut: SAMPLE_JAPANESE[i]!.length,
        badLines: 0,
      });
      expect(readJsonl(r.result!.output).map((d) => d.url)).toEqual(SAMPLE_JAPANESE[i]);
    }
    // NFKC: the recipe's "①" became "1".
    expect(readJsonl(join(cleaned, 'task-0', 'clean.jsonl'))[1]!.text).toContain('1 じゃがいもは皮をむいて');
  });

  it('fails clearly on an unknown pipeline, an unknown step, a missing shard, an empty folder', async () => {
    const base = {
      kind: 'cleaning' as const,
      name: 'bad',
      input: { shards: [shard] },
      output: { prefix: join(tmp, 'bad') },
      run,
    };
    const unknown = await runPython(CLEAN, workerEnv({ ...base, pipeline: { name: 'nope' } }));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown pipeline 'nope' (known: ja-basic, ja-strict, dedup");
    const step = await runPython(CLEAN, workerEnv({ ...base, env: { KUMO_PIPELINE_STEPS: '[{"name":"lowercase"}]' } }));
    expect(step.stderr).toContain("unknown step 'lowercase'");
    const missing = await runPython(CLEAN, workerEnv({ ...base, input: { shards: [join(tmp, 'nope.jsonl')] } }));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('does not exist');
    mkdirSync(join(tmp, 'empty'));
    const empty = await runPython(CLEAN, workerEnv({ ...base, input: { shards: [join(tmp, 'empty')] } }));
    expect(empty.code).toBe(3);
    expect(empty.stderr).toContain('no .jsonl files');
    for (const r of [unknown, step, missing, empty]) expect(r.result).toBeUndefined();
  });
});
