import type { BusMessage, Topic, TopicData } from './bus';

// The wire shape of stream entries, apart from the subscription that reads them.

export type StreamEntry = [id: string, fields: string[]];
export type ReadGroupReply = [key: string, entries: StreamEntry[]][] | null;
export type ClaimReply = [cursor: string, entries: StreamEntry[], counts: number[], deleted: string[]];

/** A stream entry's `id`, `at` and `data` fields as a bus message; undefined if they cannot be parsed. */
export function toMessage<T extends Topic>(
  topic: T,
  fields: string[],
  deliveryAttempt: number,
): BusMessage<T> | undefined {
  let id: string | undefined;
  let at: string | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    if (fields[i] === 'id') id = value;
    else if (fields[i] === 'at') at = value;
    else if (fields[i] === 'data') data = value;
  }
  if (id === undefined || data === undefined) return undefined;
  try {
    return {
      id,
      topic,
      publishedAt: Number(at ?? 0),
      deliveryAttempt,
      data: JSON.parse(data) as TopicData[T],
    };
  } catch {
    return undefined;
  }
}
