import { describe, expect, it } from 'vitest';
import { readSse, type SseEvent } from '@kumo/cli';

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(typeof ch === 'string' ? enc.encode(ch) : ch);
      c.close();
    },
  });
}

async function all(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const ev of readSse(stream)) out.push(ev);
  return out;
}

describe('readSse', () => {
  it('reads events split anywhere across chunks, skipping keepalive comments', async () => {
    const events = await all(
      streamOf([
        'event: sta',
        'te\ndata: {"state":"running"}\n',
        '\n: keepalive\n\nevent: progress\r\n',
        'data: {"total":3}\r',
        '\n\r\n',
      ]),
    );
    expect(events).toEqual([
      { event: 'state', data: '{"state":"running"}' },
      { event: 'progress', data: '{"total":3}' },
    ]);
  });

  it('joins data lines, names unnamed events "message", and keeps a character split between chunks whole', async () => {
    const bytes = new TextEncoder().encode('data: 日本語\ndata: two\n\n');
    const events = await all(streamOf([bytes.slice(0, 8), bytes.slice(8)]));
    expect(events).toEqual([{ event: 'message', data: '日本語\ntwo' }]);
  });

  it('drops a last event the stream cut before its blank line', async () => {
    expect(await all(streamOf(['event: progress\ndata: {"a":1}\n\nevent: end\ndata: {"st']))).toEqual([
      { event: 'progress', data: '{"a":1}' },
    ]);
  });
});
