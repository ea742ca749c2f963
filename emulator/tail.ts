// A TailLogEntries session: entries written after it began that match its
// filter, buffered for the buffer window "to prevent out of order results due
// to late arriving log entries", then sent ordered by timestamp.
import type {LogStore, StoredEntry} from './logging.ts';
import type {Message} from './protos.ts';

const MAX_ENTRIES_PER_RESPONSE = 1000;

export class TailSession {
  readonly #matches: (entry: StoredEntry) => boolean;
  readonly #windowMs: number;
  readonly #send: (entries: Message[]) => void;
  readonly #unsubscribe: () => void;
  readonly #buffer: StoredEntry[] = [];
  #timer?: NodeJS.Timeout;

  constructor(logs: LogStore, matches: (entry: StoredEntry) => boolean, windowMs: number, send: (entries: Message[]) => void) {
    this.#matches = matches;
    this.#windowMs = windowMs;
    this.#send = send;
    this.#unsubscribe = logs.subscribe(entry => this.#add(entry));
  }

  /** Ends the session; with `flush`, what is buffered is sent first. */
  close(flush: boolean): void {
    this.#unsubscribe();
    clearTimeout(this.#timer);
    if (flush) this.#flush();
  }

  #add(entry: StoredEntry): void {
    if (!this.#matches(entry)) return;
    this.#buffer.push(entry);
    this.#timer ??= setTimeout(() => this.#flush(), this.#windowMs);
  }

  #flush(): void {
    this.#timer = undefined;
    const batch = this.#buffer.splice(0).sort((a, b) => (a.nanos === b.nanos ? a.seq - b.seq : a.nanos < b.nanos ? -1 : 1));
    // A response carries a bounded number of entries, as a real server's must: one
    // window of a chatty job would otherwise be a single message of any size.
    for (let i = 0; i < batch.length; i += MAX_ENTRIES_PER_RESPONSE) {
      this.#send(batch.slice(i, i + MAX_ENTRIES_PER_RESPONSE).map(entry => entry.entry));
    }
  }
}
