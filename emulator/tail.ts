// A TailLogEntries session: entries ingested after it began that match its
// filter, buffered for the buffer window "to prevent out of order results due
// to late arriving log entries", then sent ordered by timestamp. Beyond its
// rate limit a session drops entries and says how many in suppression_info.
import type {LogStore, StoredEntry} from './logging.ts';
import type {Message} from './protos.ts';

const MAX_ENTRIES_PER_RESPONSE = 1000;
const MINUTE_MS = 60_000;

export class TailSession {
  readonly #matches: (entry: StoredEntry) => boolean;
  readonly #windowMs: number;
  readonly #entriesPerMinute: number;
  readonly #send: (response: Message) => void;
  readonly #unsubscribe: () => void;
  readonly #buffer: StoredEntry[] = [];
  /** When each batch counted against the rate limit was sent, and its size. */
  readonly #sent: Array<{at: number; count: number}> = [];
  #timer?: NodeJS.Timeout;

  constructor(
    logs: LogStore,
    matches: (entry: StoredEntry) => boolean,
    windowMs: number,
    entriesPerMinute: number,
    send: (response: Message) => void,
  ) {
    this.#matches = matches;
    this.#windowMs = windowMs;
    this.#entriesPerMinute = entriesPerMinute;
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

  /** How many more entries the rate limit lets through now. */
  #allowance(): number {
    if (this.#entriesPerMinute === Infinity) return Infinity;
    const since = Date.now() - MINUTE_MS;
    while (this.#sent.length && this.#sent[0]!.at <= since) this.#sent.shift();
    return Math.max(0, this.#entriesPerMinute - this.#sent.reduce((sum, batch) => sum + batch.count, 0));
  }

  #flush(): void {
    this.#timer = undefined;
    const batch = this.#buffer.splice(0).sort((a, b) => (a.nanos === b.nanos ? a.seq - b.seq : a.nanos < b.nanos ? -1 : 1));
    const kept = batch.slice(0, this.#allowance());
    const suppressed = batch.length - kept.length;
    if (this.#entriesPerMinute !== Infinity) this.#sent.push({at: Date.now(), count: kept.length});
    // A response carries a bounded number of entries, as a real server's must: one
    // window of a chatty job would otherwise be a single message of any size.
    for (let i = 0; i < kept.length; i += MAX_ENTRIES_PER_RESPONSE) {
      this.#send({entries: kept.slice(i, i + MAX_ENTRIES_PER_RESPONSE).map(entry => entry.entry)});
    }
    if (suppressed > 0) this.#send({entries: [], suppressionInfo: [{reason: 'RATE_LIMIT', suppressedCount: suppressed}]});
  }
}
