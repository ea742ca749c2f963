// Splits a process's output stream into log lines: one entry per line without
// its newline, a final unterminated line flushed at exit, and a line longer
// than Cloud Logging's 256 KiB entry limit cut at that size (the rest of that
// line is dropped).
const MAX_LINE_BYTES = 256 * 1024;

/** The longest prefix of `bytes` within `limit` bytes that does not split a UTF-8 character. */
function cut(bytes: Buffer, limit: number): Buffer {
  let end = Math.min(limit, bytes.length);
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export class LineSplitter {
  readonly #onLine: (text: string) => void;
  #pending = Buffer.alloc(0);
  #discarding = false;

  constructor(onLine: (text: string) => void) {
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    let data = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10)) {
      if (!this.#discarding) this.#emit(data.subarray(0, newline));
      this.#discarding = false;
      data = data.subarray(newline + 1);
    }
    if (this.#discarding) data = Buffer.alloc(0);
    if (data.length > MAX_LINE_BYTES) {
      this.#emit(data);
      this.#discarding = true;
      data = Buffer.alloc(0);
    }
    this.#pending = Buffer.from(data);
  }

  end(): void {
    if (this.#pending.length && !this.#discarding) this.#emit(this.#pending);
    this.#pending = Buffer.alloc(0);
    this.#discarding = false;
  }

  #emit(line: Buffer): void {
    this.#onLine(cut(line, MAX_LINE_BYTES).toString('utf8'));
  }
}
