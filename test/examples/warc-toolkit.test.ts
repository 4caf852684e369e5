import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, makeSampleWarcs, type SampleWarcs } from './task-process';

interface Row {
  offset: number;
  type: string;
  length?: number;
  uri?: string;
  reason?: string;
}

/** `warcfile.py ls`: one row per record, or SKIPPED with the reason. */
function ls(file: string): Row[] {
  const r = spawnSync('python3', [join(EXAMPLES, 'warc/warcfile.py'), 'ls', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, offset, type, a, b] = line.split('\t');
      return type === 'SKIPPED'
        ? { offset: Number(offset), type: type!, reason: a }
        : { offset: Number(offset), type: type!, length: Number(a), uri: b ?? '' };
    });
}

const types = (rows: Row[]) => rows.map((r) => r.type);

describe('examples/warc: the sample generator and the record reader', () => {
  let tmp: string;
  let sample: SampleWarcs;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-warc-'));
    sample = makeSampleWarcs(join(tmp, 'cc'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes small CommonCrawl-shaped files: warc.paths, one gzip member per record, warcinfo then request/response/metadata', () => {
    expect(sample.relative).toEqual([
      'crawl-data/CC-MAIN-SAMPLE/segments/1701400000000.00/warc/CC-MAIN-20231201030000-20231201060000-00000.warc.gz',
      'crawl-data/CC-MAIN-SAMPLE/segments/1701400000000.00/warc/CC-MAIN-20231201030000-20231201060000-00001.warc.gz',
      'crawl-data/CC-MAIN-SAMPLE/segments/1701400000000.00/warc/CC-MAIN-20231201030000-20231201060000-00002.warc',
    ]);
    for (const f of sample.absolute) expect(statSync(f).size).toBeLessThan(50_000);
    const first = ls(sample.absolute[0]!);
    expect(types(first).slice(0, 4)).toEqual(['warcinfo', 'request', 'response', 'metadata']);
    // Each record's offset is the start of its own gzip member: that member alone decompresses to it.
    const bytes = readFileSync(sample.absolute[0]!);
    const resp = first[2]!;
    const member = gunzipSync(bytes.subarray(resp.offset, first[3]!.offset)).toString('latin1');
    expect(member).toMatch(/^WARC\/1\.0\r\nWARC-Type: response\r\n/);
    expect(member).toContain(`WARC-Target-URI: ${resp.uri}`);
    // The same bytes generated twice: the sample is reproducible.
    const again = makeSampleWarcs(join(tmp, 'again'));
    expect(readFileSync(again.absolute[1]!).equals(readFileSync(sample.absolute[1]!))).toBe(true);
  });

  it('skips the truncated gzip member and the record whose digest fails, and reads every other record', () => {
    const f0 = ls(sample.absolute[0]!);
    expect(f0.filter((r) => r.type === 'SKIPPED')).toEqual([
      {
        offset: expect.any(Number),
        type: 'SKIPPED',
        reason: expect.stringContaining('gzip member does not decompress'),
      },
    ]);
    expect(f0).toHaveLength(1 + 7 * 3); // warcinfo + 7 fetches x 3 records, one of them lost
    const f2 = ls(sample.absolute[2]!);
    expect(f2.filter((r) => r.type === 'SKIPPED')).toEqual([
      {
        offset: expect.any(Number),
        type: 'SKIPPED',
        reason: expect.stringContaining('WARC-Block-Digest does not match'),
      },
    ]);
    expect(types(ls(sample.absolute[1]!)).filter((t) => t === 'revisit')).toHaveLength(1);
  });

  it('reads a whole file compressed as one gzip member (gzip file.warc) record by record', () => {
    const one = join(tmp, 'one-member.warc.gz');
    writeFileSync(one, gzipSync(readFileSync(sample.absolute[2]!)));
    const plain = ls(sample.absolute[2]!);
    expect(ls(one).map(({ type, uri }) => ({ type, uri }))).toEqual(plain.map(({ type, uri }) => ({ type, uri })));
  });

  it('resynchronises at the next member after garbage between members, reporting the stretch once', () => {
    const rows = ls(sample.absolute[1]!);
    const at = rows[5]!.offset; // a member boundary
    const bytes = readFileSync(sample.absolute[1]!);
    const garbage = Buffer.alloc(300, 0x1f); // includes lone 0x1f bytes, half of a gzip header
    garbage.write('\x1f\x8b\x08 not really gzip', 100, 'latin1');
    const bad = join(tmp, 'garbage.warc.gz');
    writeFileSync(bad, Buffer.concat([bytes.subarray(0, at), garbage, bytes.subarray(at)]));
    const got = ls(bad);
    expect(got.filter((r) => r.type === 'SKIPPED')).toEqual([
      { offset: at, type: 'SKIPPED', reason: expect.any(String) },
    ]);
    expect(got.filter((r) => r.type !== 'SKIPPED').map((r) => r.uri)).toEqual(rows.map((r) => r.uri));
  });

  it('reports a file cut off inside its last record as one skipped record', () => {
    const bytes = readFileSync(sample.absolute[1]!);
    const cut = join(tmp, 'cut.warc.gz');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 40));
    const got = ls(cut);
    expect(got.at(-1)).toMatchObject({ type: 'SKIPPED', reason: expect.stringMatching(/truncated/) });
    expect(got.filter((r) => r.type !== 'SKIPPED')).toHaveLength(ls(sample.absolute[1]!).length - 1);
  });

  it('skips a plain-file record whose header does not parse, up to the next WARC/1.0 line', () => {
    const text = readFileSync(sample.absolute[2]!, 'latin1');
    const second = text.indexOf('WARC/1.0', 10);
    const damaged = text.slice(0, second) + text.slice(second).replace('Content-Length: ', 'Content-Lenght: ');
    const bad = join(tmp, 'bad-header.warc');
    writeFileSync(bad, Buffer.from(damaged, 'latin1'));
    const good = ls(sample.absolute[2]!);
    const got = ls(bad);
    expect(got.filter((r) => r.type === 'SKIPPED').map((r) => r.reason)).toEqual([
      'WARC record without Content-Length',
      expect.stringContaining('WARC-Block-Digest'),
    ]);
    expect(got.filter((r) => r.type !== 'SKIPPED').map((r) => r.uri)).toEqual(
      good.filter((r) => r.type !== 'SKIPPED' && r.offset !== second).map((r) => r.uri),
    );
  });

  it('verify exits 1 when a file has corrupt records, 0 when it has none', () => {
    const verify = (f: string) =>
      spawnSync('python3', [join(EXAMPLES, 'warc/warcfile.py'), 'verify', f], { encoding: 'utf8' });
    expect(verify(sample.absolute[0]!).status).toBe(1);
    const ok = verify(sample.absolute[1]!);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('metadata=5 request=5 response=5 revisit=1 warcinfo=1');
    expect(verify(join(tmp, 'nope.warc')).stderr).toContain('No such file');
  });
});
