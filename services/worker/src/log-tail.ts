/** The last `maxBytes` of what a task printed, kept in memory, whatever it prints in all. */
export class LogTail {
  private chunks: string[] = [];
  private size = 0;

  constructor(private readonly maxBytes = 8192) {}

  push(text: string): void {
    if (text.length === 0) return;
    // One piece longer than the whole tail (a long line, a pipe's chunk) is kept only as far as it counts.
    const kept = text.length > this.maxBytes ? text.slice(text.length - this.maxBytes) : text;
    this.chunks.push(kept);
    this.size += kept.length;
    // The oldest piece goes only once the rest fill the tail: a tail never holds less than it should.
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.maxBytes) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  toString(): string {
    const all = this.chunks.join('');
    return all.length > this.maxBytes ? all.slice(all.length - this.maxBytes) : all;
  }
}
