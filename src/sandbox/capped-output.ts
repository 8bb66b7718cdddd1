import type { CapturedOutput } from './types.js';

/**
 * Keeps the last `maxBytes` bytes of a stream (the tail is where tracebacks and summaries are)
 * and counts what it dropped. Memory stays bounded however much a test prints.
 */
export class CappedOutput {
  private chunks: Buffer[] = [];
  private keptBytes = 0;
  private dropped = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.keptBytes += chunk.length;
    while (this.keptBytes > this.maxBytes && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.keptBytes - this.maxBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.keptBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.keptBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  result(): CapturedOutput {
    return { text: Buffer.concat(this.chunks).toString('utf8'), droppedBytes: this.dropped };
  }
}
