import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane } from '../support/control-plane';
import { addsUp, type client } from '../support/http';
import { taskReadableDir } from '../support/task-dirs';
import { waitFor } from '../support/wait';
import { EXAMPLES, japaneseShare, makeSampleWarcs, readJsonl, SAMPLE_JAPANESE, type SampleWarcs } from './task-process';

describe('the extraction example through kumo, end to end', () => {
  let api: ReturnType<typeof client>;
  let stop: (() => Promise<void>) | undefined;
  let tmp: string;
  let sample: SampleWarcs;

  beforeAll(async () => {
    // The tasks read the sample from here, and kumo makes their output folders in it for their uid.
    tmp = taskReadableDir('kumo-examples-e2e-');
    sample = makeSampleWarcs(join(tmp, 'cc'));
    ({ api, stop } = await startTestControlPlane('examples-e2e', {
      // Under the test's folder, removed with it.
      dataDir: join(tmp, 'kumo'),
      localPool: { max: 1, slotsPerVm: 4, idleTimeoutSeconds: 2 },
      workerEnv: { KUMO_DRAIN_MS: '2000' },
      // The generated warc.paths.gz is read from here by the API (source.listing).
      listings: { roots: [tmp] },
    }));
  });
  afterAll(async () => {
    await stop?.();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Waits for the job; then checks each task's result and the Japanese text it wrote under `out`. */
  async function expectJapaneseExtracted(id: string, out: string): Promise<void> {
    const job = await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${id}`)).body;
        expect(addsUp(j.progress)).toBe(true);
        return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
      },
      { timeoutMs: 40_000, what: 'the extraction job to end' },
    );
    if (job.state !== 'succeeded') {
      const failures = (await api.get(`/v1/jobs/${id}/tasks`)).body;
      throw new Error(`job ${job.state}: ${JSON.stringify(failures)}`);
    }
    expect(job.progress).toMatchObject({ total: 3, succeeded: 3, failed: 0, unit: 'batches' });

    const { results } = (await api.get(`/v1/jobs/${id}/results`)).body;
    expect(results.map((r: { index: number }) => r.index)).toEqual([0, 1, 2]);
    for (const { index, result } of results) {
      expect(result).toMatchObject({
        docsOut: SAMPLE_JAPANESE[index]!.length,
        output: join(out, `task-${index}`, 'ja.jsonl'),
        inputs: 1,
      });
      expect(result.docsOut).toBeGreaterThan(0);
      expect(result.docsIn).toBeGreaterThan(result.docsOut);
      const docs = readJsonl(result.output);
      expect(docs.map((d) => d.url)).toEqual(SAMPLE_JAPANESE[index]);
      for (const d of docs) expect(japaneseShare(d.text)).toBeGreaterThan(0.8);
    }
    expect(results.map((r: { result: { recordsSkipped: number } }) => r.result.recordsSkipped)).toEqual([1, 0, 1]);
    const all = results
      .flatMap((r: { result: { output: string } }) => readJsonl(r.result.output).map((d) => d.text))
      .join('\n');
    for (const phrase of [
      '京都の紅葉を歩く週末',
      'じゃがいもは皮をむいて',
      '返却ポスト',
      '送料はいくらですか',
      '防寒着は必ず持っていきましょう',
    ])
      expect(all).toContain(phrase);
  }

  it('extracts the Japanese pages of the sample WARC files: job succeeded, results per task, Japanese text in the output folder', async () => {
    const out = join(tmp, 'extracted');
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'sample-ja',
      source: { snapshot: 'CC-MAIN-SAMPLE', paths: sample.absolute },
      output: { prefix: out },
      pool: 'local',
      retry: { maxAttempts: 1 },
      run: { command: ['python3', join(EXAMPLES, 'extract-ja/extract.py')] },
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    await expectJapaneseExtracted(sub.body.id, out);
  });

  it("the same from the sample's generated warc.paths.gz listing (source.listing): relative paths, each task its line", async () => {
    const out = join(tmp, 'extracted-from-listing');
    const listing = join(sample.dir, 'warc.paths.gz');
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'sample-ja-listing',
      source: { snapshot: 'CC-MAIN-SAMPLE', listing },
      output: { prefix: out },
      // The listing's paths are CommonCrawl's, relative: the extractor resolves them against this.
      env: { KUMO_INPUT_ROOT: sample.dir },
      pool: 'local',
      retry: { maxAttempts: 1 },
      run: { command: ['python3', join(EXAMPLES, 'extract-ja/extract.py')] },
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    expect(sub.body.spec.source).toMatchObject({
      listing,
      batches: 3,
      listingSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    await expectJapaneseExtracted(sub.body.id, out);
    const { results } = (await api.get(`/v1/jobs/${sub.body.id}/results`)).body;
    // Each task was given its own line of the listing, as written (the extractor records what it was given).
    for (const { index, result } of results)
      expect(new Set(readJsonl(result.output).map((d) => d.warc_file))).toEqual(new Set([sample.relative[index]]));
  });
});
