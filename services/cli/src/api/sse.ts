export interface SseEvent {
  /** "message" when the server named none, as in the EventSource spec. */
  event: string;
  data: string;
}

/**
 * Server-sent events from a byte stream, per the EventSource format: events end at a blank line, `data:`
 * lines join with "\n", lines starting with ":" are comments (the server's keepalives). Ends when the
 * stream does; a trailing event without its blank line is dropped, as the spec says, since it may be cut.
 */
export async function* readSse(stream: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = stream.getReader();
  // stream: true keeps a multi-byte character split across chunks whole (job names are often Japanese).
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\r|\n/)) !== -1) {
        // A "\r" that ends the chunk may be half of a "\r\n" split across chunks: wait for the next one.
        if (buffer[nl] === '\r' && nl === buffer.length - 1) break;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let val = colon === -1 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
      }
    }
  } finally {
    // Stops the download when the consumer leaves early (a `break` after `event: end`).
    await reader.cancel().catch(() => undefined);
  }
}
