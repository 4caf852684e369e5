/** The last `maxBytes` of what a task printed, kept in memory, whatever it prints in all. */
export class LogTail {
  private chunks: string[] = [];
  private size = 0;

  constructor(private readonly maxBytes = 8192) {}

  push(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.maxBytes && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  toString(): string {
    const all = this.chunks.join('');
    return all.length > this.maxBytes ? all.slice(all.length - this.maxBytes) : all;
  }
}
