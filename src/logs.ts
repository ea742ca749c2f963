import {setTimeout as sleep} from 'node:timers/promises';
import type {protos} from '@google-cloud/logging-api';
import {LoggingServiceV2Client} from '@google-cloud/logging-api/build/src/v2/logging_service_v2_client.js';
import {Status, serializer, type ClientOptions} from 'google-gax';
import type {Execution} from './clients.ts';
import {errorMessage, rpcCode} from './errors.ts';
import {loggingGax, loggingMessage, type Undecoded} from './gax.ts';
import {hasStarted} from './outcome.ts';
import type {Io} from './io.ts';
import {cleanLine} from './sanitize.ts';
import type {SeverityMarks} from './severity.ts';

type LogEntry = protos.google.logging.v2.ILogEntry;

const BACKFILL_PAGES = 5;
/** Tail entries held while the backfill runs; beyond this the tail waits (its stream is paused). */
const HOLD_LIMIT = 1000;
/** A backfill that waits for the read quota holds the tail's entries this long at most, then they are shown. */
const MAX_HOLD_MS = 2000;
/** However much the job printed, the action stops following its logs this long after it ended. */
const MAX_DRAIN_MS = 5 * 60_000;
/**
 * Page reads look this far back from the newest entry printed, for entries ingested after
 * later ones: the tail's own buffer window, meant to put late entries in order, defaults to
 * 2 s, and ingestion takes seconds. Further back, a job printing steadily would have every
 * read fetch a second page of what it already printed, against a quota of 60 reads a minute.
 */
const LOOKBACK_MS = 10_000;
/** The entries printed last, remembered to print each once when a read looks back: one page. */
const RECENT_ENTRIES = 1000;
/** A tail refused (10 sessions per project) is asked for again this often: sessions end with their runs. */
const TAIL_RETRY_MS = 30_000;
/** After RESOURCE_EXHAUSTED a read waits between half this and this, doubling each time. */
const QUOTA_BACKOFF_MS = 4000;
const MAX_QUOTA_BACKOFF_MS = 32_000;
/** Reading pages, reads slow down to this after the quota was exceeded, and speed up again as they succeed. */
const MAX_POLL_MS = 30_000;
const SYSTEM_LOG = 'run.googleapis.com%2Fvarlog%2Fsystem';
const TASK_LABEL = 'run.googleapis.com/task_index';
const ATTEMPT_LABEL = 'run.googleapis.com/task_attempt';
/** The platform's own last line for a task attempt, written to varlog/system when its container ends. */
const LAST_LINE = /^Container (?:called exit\((\d+)\)|terminated on signal \d+)\.$/;

const SUPPRESSED_BECAUSE: Record<string, string> = {
  RATE_LIMIT: "over the live tail's rate limit",
  NOT_CONSUMED: 'they were not read fast enough',
};

export interface LogSettings {
  project: string;
  /** The filter on one execution's entries (resource, job, location, execution label). */
  filter: string;
  /** Tail's buffer window: entries are held this long so that they arrive in order. */
  bufferWindowMs: number;
  /** Between ListLogEntries reads when Tail cannot be used: the read quota is shared by the project. */
  pollMs: number;
  /**
   * After the execution ends, once every task's last line has not come, the logs are followed
   * until they have been quiet this long: entries are readable only a while after they are written.
   */
  settleMs: number;
  /** Lines kept for the failure tail. */
  tailLines: number;
  logsUrl: string;
}

/**
 * Follows one execution's log entries into the workflow log while it runs: in order, each
 * once, from the Tail stream when it can, else from ListLogEntries pages, within the quotas
 * the project's other runs share. Logs are best effort: a failure to read them is one warning
 * and never changes the verdict.
 */
export class LogFollower {
  /**
   * Resolves once the logs show every task's container ended for good: it exited 0, or its
   * last allowed attempt ended. It may never resolve (system logs excluded, logs unreadable).
   */
  readonly containersEnded: Promise<void>;
  readonly #client: LoggingServiceV2Client;
  readonly #settings: LogSettings;
  readonly #io: Io;
  readonly #marks: SeverityMarks;
  readonly #printed = new Printed();
  readonly #last: string[] = [];
  /** Per task index, whether the last line printed for it was its container's end. */
  readonly #exited = new Map<number, boolean>();
  /** The tasks whose final attempt ended, as the log says: exit 0, or the last attempt allowed. */
  readonly #endedTasks = new Set<number>();
  readonly #stop = new AbortController();
  #markEnded!: () => void;
  #tasks = 1;
  #maxRetries = 0;
  #lastArrival = 0;
  /** When the last page read that completed had started. */
  #lastReadStart = 0;
  #pollMs: number;
  #stopped = false;
  #failed = false;
  /** While the read of what came before the tail opened is under way: the drain waits for it. */
  #backfilling = false;
  #toldSuppressed = false;
  #running?: Promise<void>;
  /** Page reads run one after the other, so that each starts where the last one ended. */
  #pageReads: Promise<void> = Promise.resolve();
  #stream?: ReturnType<LoggingServiceV2Client['tailLogEntries']>;
  #wake?: () => void;
  #multiTask = false;

  constructor(options: ClientOptions, settings: LogSettings, io: Io) {
    this.#client = new LoggingServiceV2Client(options, loggingGax);
    this.#settings = settings;
    this.#io = io;
    this.#marks = io.marks;
    this.#pollMs = settings.pollMs;
    this.containersEnded = new Promise((resolve) => (this.#markEnded = resolve));
  }

  start(execution: Execution): void {
    this.#tasks = execution.taskCount ?? 1;
    this.#maxRetries = execution.template?.maxRetries ?? 3;
    this.#multiTask = this.#tasks > 1;
    // Nothing of the execution's is older than it: every read is bounded by its creation.
    this.#printed.since(instantOf(execution.createTime));
    this.#running = this.#follow().catch((err) => this.#giveUp(err));
  }

  /** The last lines printed, for the failure tail. */
  lastLines(): string[] {
    return [...this.#last];
  }

  /**
   * finish stops following once the logs have caught up with the execution's end: every
   * task's last line is the platform's note that its container ended. As that note may never
   * come (a cancelled task, system logs excluded), it also stops once the log has been quiet
   * for the settle period since the end or the last line.
   */
  async finish(execution: Execution): Promise<void> {
    const tasks = hasStarted(execution) ? (execution.taskCount ?? 1) : 0;
    // Once entries have come out of order, more may come after the last line: wait for quiet then too.
    // A task is done with when its last line is the end of its final attempt: a retried task's first
    // end is not its last, and a cancelled one's final end may never come (quiet ends the drain then).
    const caughtUp = () =>
      this.#failed ||
      (!this.#backfilling &&
        !this.#printed.late &&
        Array.from({length: tasks}, (_, i) => this.#exited.get(i) && this.#endedTasks.has(i)).every(Boolean));
    const ended = Date.now();
    const quietFrom = () => Math.max(ended, this.#lastArrival) + this.#settings.settleMs;
    // One page read now catches up at once, instead of waiting out the tail's buffer window.
    if (!caughtUp()) {
      if (this.#stream) this.#readPages({maxPages: 1}).catch((err) => this.#giveUp(err));
      else this.#wake?.();
    }
    while (!caughtUp() && Date.now() < ended + MAX_DRAIN_MS) {
      // Quiet means no line for the settle period: as the tail shows, or as a read begun after it found.
      const quiet = Date.now() >= quietFrom() && !this.#backfilling;
      if (quiet && (this.#stream || this.#lastReadStart >= quietFrom())) break;
      if (!this.#stream && Date.now() >= quietFrom()) this.#wake?.();
      await sleep(50);
    }
    await this.close();
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#stop.abort();
    this.#stream?.end();
    this.#stream?.cancel?.();
    this.#wake?.();
    await this.#running;
    await this.#pageReads;
    await this.#client.close().catch(() => undefined);
  }

  async #follow(): Promise<void> {
    /** When to open the tail next: at once after a session ended, Infinity when there is none. */
    let tailAt = 0;
    while (!this.#stopped) {
      if (Date.now() >= tailAt) {
        const opened = Date.now();
        try {
          await this.#tail();
          // The server ended the session (sessions have a maximum length): open another.
          tailAt = Date.now() - opened < TAIL_RETRY_MS ? Date.now() + jitter(TAIL_RETRY_MS) : 0;
        } catch (err) {
          if (this.#stopped) return;
          const code = rpcCode(err);
          if (code === Status.PERMISSION_DENIED || code === Status.UNAUTHENTICATED) throw err;
          tailAt = code === Status.UNIMPLEMENTED ? Infinity : Date.now() + jitter(TAIL_RETRY_MS);
          this.#io.debug(`Log tail unavailable (${errorMessage(err)}); reading pages meanwhile.`);
        } finally {
          this.#stream = undefined;
          this.#printed.tailClosed();
        }
        if (this.#stopped) return;
        if (tailAt === 0) continue;
      }
      // Reading pages while the job runs keeps its lines live, a few pages at a time so
      // that a chatty job does not take the whole project's read quota. The backfill begun
      // with a tail that was refused counts as a read.
      await this.#pageReads;
      if (Date.now() - this.#lastReadStart >= this.#settings.pollMs / 2) await this.#readPages({maxPages: BACKFILL_PAGES});
      if (this.#stopped) return;
      await this.#pause(Math.min(jitter(this.#pollMs), tailAt - Date.now()));
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#wake = done;
    });
  }

  /**
   * Streams entries from TailLogEntries until the stream ends. A tail gives only what is
   * ingested after it opens, so a backfill reads what came before; entries both return are
   * printed once, and the tail's are held until the backfill is printed, to keep the order.
   */
  async #tail(): Promise<void> {
    const stream = this.#client.tailLogEntries();
    this.#stream = stream;
    this.#printed.tailOpened();
    const window = this.#settings.bufferWindowMs;
    stream.write({
      resourceNames: [`projects/${this.#settings.project}`],
      filter: this.#settings.filter,
      bufferWindow: {seconds: Math.floor(window / 1000), nanos: (window % 1000) * 1e6},
    });
    // The stream waits, rather than fill memory, while a chatty job's tail runs far ahead of the
    // backfill, and while the workflow log's reader is behind: entries wait at the server.
    const waits = new Set<'backfill' | 'reader'>();
    const wait = (reason: 'backfill' | 'reader') => {
      waits.add(reason);
      stream.pause();
    };
    const go = (reason: 'backfill' | 'reader') => {
      if (waits.delete(reason) && waits.size === 0) stream.resume();
    };
    const print = (entries: LogEntry[]) => {
      if (this.#print(entries, 'tail') || waits.has('reader')) return;
      wait('reader');
      void this.#io.drained().then(() => go('reader'));
    };
    const held: LogEntry[] = [];
    let backfilled = false;
    stream.on('data', (response: Undecoded<protos.google.logging.v2.ITailLogEntriesResponse>) => {
      const {entries = [], suppressionInfo} = response.decode();
      if (suppressionInfo?.length) this.#tellSuppressed(suppressionInfo);
      if (!entries?.length) return;
      if (backfilled) return print(entries);
      held.push(...entries);
      if (held.length >= HOLD_LIMIT) wait('backfill');
    });
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('error', (err: Error) => (this.#stopped && rpcCode(err) === Status.CANCELLED ? resolve() : reject(err)));
      stream.on('end', resolve);
    });
    // The tail opens as the execution starts: what came before is at most a few pages. Should
    // the backfill wait for the read quota, the job's lines are shown meanwhile, and the
    // backfill's, older, when it comes.
    const holding = new Promise((resolve) => setTimeout(resolve, MAX_HOLD_MS).unref());
    this.#backfilling = true;
    const backfill = this.#readPages({maxPages: BACKFILL_PAGES}).finally(() => (this.#backfilling = false));
    await Promise.race([backfill, ended, holding]);
    backfilled = true;
    print(held.sort(byTime));
    held.length = 0;
    go('backfill');
    await ended;
  }

  /** Reads, page by page, the entries from a little before the newest printed on, up to `maxPages` pages. */
  #readPages(options: {maxPages?: number} = {}): Promise<void> {
    const read = this.#pageReads.then(() => this.#readPagesNow(options));
    this.#pageReads = read.catch(() => undefined);
    return read;
  }

  async #readPagesNow({maxPages = Infinity}: {maxPages?: number}): Promise<void> {
    if (this.#stopped) return;
    const started = Date.now();
    const bound = this.#printed.readStarted();
    try {
      await this.#readPagesFrom(bound, maxPages);
      this.#lastReadStart = started;
    } finally {
      this.#printed.readEnded();
    }
  }

  async #readPagesFrom(bound: string, maxPages: number): Promise<void> {
    let pageToken = '';
    for (let page = 0; page < maxPages; page++) {
      const {entries, nextPageToken} = await this.#list({
        resourceNames: [`projects/${this.#settings.project}`],
        filter: [this.#settings.filter, bound].filter(Boolean).join('\n'),
        orderBy: 'timestamp asc',
        pageSize: 1000,
        pageToken,
      });
      const keepingUp = this.#print(entries, 'page');
      // An empty page with a token means the search ran out of time, not out of entries.
      pageToken = nextPageToken;
      if (!keepingUp) await this.#io.drained();
      if (!pageToken || this.#stopped) return;
    }
  }

  /**
   * One ListLogEntries call. The project's read quota (60 a minute, shared by every run in
   * it) is waited for when exceeded, with jitter so that runs refused together spread out,
   * and the reads while the job runs slow down until they succeed again.
   */
  async #list(request: protos.google.logging.v2.IListLogEntriesRequest): Promise<{entries: LogEntry[]; nextPageToken: string}> {
    for (let ceiling = QUOTA_BACKOFF_MS; ; ceiling = Math.min(ceiling * 2, MAX_QUOTA_BACKOFF_MS)) {
      try {
        const [entries, , response] = await this.#client.listLogEntries(request, {autoPaginate: false});
        this.#pollMs = Math.max(this.#settings.pollMs, this.#pollMs - this.#settings.pollMs / 4);
        return {entries, nextPageToken: response?.nextPageToken ?? ''};
      } catch (err) {
        // Once the follower has stopped, a refused read is no failure to read the logs: nothing waits for it.
        if (this.#stopped) return {entries: [], nextPageToken: ''};
        if (rpcCode(err) !== Status.RESOURCE_EXHAUSTED) throw err;
        this.#pollMs = Math.min(MAX_POLL_MS, this.#pollMs * 2);
        this.#io.debug(`Cloud Logging's read quota is used up for now (${errorMessage(err)}); reading again shortly.`);
        await sleep(ceiling / 2 + Math.random() * (ceiling / 2), undefined, {signal: this.#stop.signal}).catch(() => undefined);
        if (this.#stopped) return {entries: [], nextPageToken: ''};
      }
    }
  }

  /** Prints the entries not printed yet; false when the reader is behind (see Io.untrusted). */
  #print(entries: LogEntry[], source: 'tail' | 'page'): boolean {
    const lines: string[] = [];
    for (const entry of entries) {
      if (!this.#printed.add(entry, source)) continue;
      const task = Number(entry.labels?.[TASK_LABEL] ?? 0);
      const text = entry.textPayload ?? (entry.jsonPayload ? structuredText(entry.jsonPayload) : '');
      const last = entry.logName?.endsWith(SYSTEM_LOG) ? LAST_LINE.exec(text) : null;
      this.#exited.set(task, last !== null);
      if (last) this.#containerEnded(task, last[1], entry);
      // The marks go before the cleaned text, so that no line of the job's can fake one.
      const mark = this.#marks[entry.severity as string] ?? '';
      const prefix = this.#multiTask ? `[task ${task}${attemptSuffix(entry)}] ${mark}` : mark;
      if (!text.includes('\n')) lines.push(prefix + cleanLine(text));
      else for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/)) lines.push(prefix + cleanLine(line));
    }
    if (lines.length === 0) return true;
    this.#lastArrival = Date.now();
    this.#last.push(...lines);
    this.#last.splice(0, Math.max(0, this.#last.length - this.#settings.tailLines));
    return this.#io.untrusted(lines);
  }

  /** A task is done with once it exited 0 or its last allowed attempt ended. */
  #containerEnded(task: number, exitCode: string | undefined, entry: LogEntry): void {
    if (exitCode !== '0' && Number(entry.labels?.[ATTEMPT_LABEL] ?? 0) < this.#maxRetries) return;
    this.#endedTasks.add(task);
    if (this.#endedTasks.size >= this.#tasks) this.#markEnded();
  }

  /** Says once that the tail left entries out, and why: they are in Cloud Logging, not here. */
  #tellSuppressed(info: protos.google.logging.v2.TailLogEntriesResponse.ISuppressionInfo[]): void {
    if (this.#toldSuppressed) return;
    this.#toldSuppressed = true;
    const count = info.reduce((sum, item) => sum + (item.suppressedCount ?? 0), 0);
    const why = [...new Set(info.map((item) => SUPPRESSED_BECAUSE[String(item.reason)] ?? `reason ${item.reason}`))].join(', ');
    this.#io.warning(
      `Cloud Logging left ${count} of the job's log entries out of the live tail (${why}): lines may be missing here, or shown late. The full log: ${this.#settings.logsUrl}`,
    );
  }

  #giveUp(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    const denied = rpcCode(err) === Status.PERMISSION_DENIED;
    const advice = denied
      ? "The workflow's identity cannot read logs: grant it roles/logging.viewer (logging.logEntries.list) to see them here."
      : 'Cloud Logging could not be read.';
    this.#io.warning(`${advice} The verdict still comes from the execution. Logs: ${this.#settings.logsUrl} (${errorMessage(err)})`);
  }
}

/** Between 3/4 and 5/4 of `ms`, so that runs started together do not read together. */
const jitter = (ms: number) => ms * (0.75 + Math.random() / 2);

/**
 * A structured entry (a line of JSON the job wrote, less the fields Logging lifts into the entry:
 * severity...) is printed as its message, then its other fields as JSON, if any are left; without
 * a message, as that JSON. Not as the Struct it travels as.
 */
function structuredText(payload: protos.google.protobuf.IStruct): string {
  const fields = serializer.toProto3JSON(loggingMessage('google.protobuf.Struct').fromObject(payload)) as Record<string, unknown>;
  const {message, ...rest} = fields;
  if (typeof message !== 'string') return JSON.stringify(fields);
  const more = JSON.stringify(rest);
  return more === '{}' ? message : `${message} ${more}`;
}

const attemptSuffix = (entry: LogEntry) => {
  const attempt = Number(entry.labels?.[ATTEMPT_LABEL] ?? 0);
  return attempt > 0 ? `, attempt ${attempt + 1}` : '';
};

/** A Timestamp as [seconds, nanos], compared without building strings for every entry. */
type Instant = [number, number];
const instantOf = (t: LogEntry['timestamp']): Instant => [Number(t?.seconds ?? 0), t?.nanos ?? 0];
const instant = (entry: LogEntry): Instant => instantOf(entry.timestamp);
const compare = (a: Instant, b: Instant) => a[0] - b[0] || a[1] - b[1];
const byTime = (a: LogEntry, b: LogEntry) => compare(instant(a), instant(b));
const isZero = ([seconds, nanos]: Instant) => seconds === 0 && nanos === 0;
const minus = ([seconds, nanos]: Instant, ms: number): Instant => {
  const total = nanos - (ms % 1000) * 1e6;
  return total < 0 ? [seconds - Math.floor(ms / 1000) - 1, total + 1e9] : [seconds - Math.floor(ms / 1000), total];
};
/** A Timestamp as a Logging filter takes it. */
const rfc3339 = ([seconds, nanos]: Instant) =>
  `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;

/**
 * Printed tells which entries were printed, without remembering every id. An entry comes
 * twice only in these ways: a page read looks back from the newest entry printed, so it
 * returns again what was printed since its lower bound, and, as its filter was set when it
 * began, also what the tail prints while it runs; and the tail delivers entries that a page
 * read printed while the tail was open (the backfill, and the read that catches up at the
 * end). So the ids kept are the last page's worth printed (a read looks back no further than
 * the oldest of those can tell), those the tail printed while a read is under way, and those
 * printed from pages while the tail is open.
 *
 * A set of ids is emptied by replacing it, never with clear(): once a set is in V8's old
 * generation, clear() allocates its new table there too, linked from the old one. Cleared for
 * nearly every entry of a chatty job, that doubled the action's peak memory in most runs.
 */
class Printed {
  #since: Instant = [0, 0];
  #newest: Instant = [0, 0];
  /** The last RECENT_ENTRIES printed, as a ring: ids and timestamps, the slot to write next. */
  readonly #ids: string[] = [];
  readonly #seconds = new Float64Array(RECENT_ENTRIES);
  readonly #nanos = new Int32Array(RECENT_ENTRIES);
  #next = 0;
  /** The newest timestamp of the entries that left the ring: a read looks back no further. */
  #forgotten: Instant = [0, 0];
  /** While a page read is under way, the ids it may return again. */
  #forRead?: Set<string>;
  #fromPages = new Set<string>();
  #tailOpen = false;
  /** Whether an entry came after one with a later timestamp. */
  late = false;

  /** The execution's creation: no read looks further back. */
  since(time: Instant): void {
    this.#since = time;
  }

  /** add says whether an entry is new, and remembers it as printed if so. */
  add(entry: LogEntry, source: 'tail' | 'page'): boolean {
    const id = entry.insertId;
    if (!id || this.#forRead?.has(id) || this.#fromPages.has(id)) return false;
    const time = instant(entry);
    if (compare(time, this.#newest) > 0) this.#newest = time;
    else this.late ||= compare(time, this.#newest) < 0;
    const slot = this.#next;
    if (this.#ids.length === RECENT_ENTRIES) {
      const left: Instant = [this.#seconds[slot]!, this.#nanos[slot]!];
      if (compare(left, this.#forgotten) > 0) this.#forgotten = left;
    }
    this.#ids[slot] = id;
    this.#seconds[slot] = time[0];
    this.#nanos[slot] = time[1];
    this.#next = (slot + 1) % RECENT_ENTRIES;
    if (source === 'tail' && this.#forRead) this.#forRead.add(id);
    if (source === 'page' && this.#tailOpen) this.#fromPages.add(id);
    return true;
  }

  /** A page read begins: what it may return again is kept until it ends. Returns its lower bound, as a filter. */
  readStarted(): string {
    this.#forRead = new Set(this.#ids);
    const from = [this.#since, isZero(this.#newest) ? this.#newest : minus(this.#newest, LOOKBACK_MS)].reduce((a, b) =>
      compare(a, b) >= 0 ? a : b,
    );
    // Entries at or before the newest forgotten one may have been printed: start after it.
    if (!isZero(this.#forgotten) && compare(this.#forgotten, from) >= 0) return `timestamp>"${rfc3339(this.#forgotten)}"`;
    return isZero(from) ? '' : `timestamp>="${rfc3339(from)}"`;
  }

  readEnded(): void {
    this.#forRead = undefined;
  }

  tailOpened(): void {
    this.#tailOpen = true;
  }

  /** Once the tail is closed, it delivers nothing more that pages printed. */
  tailClosed(): void {
    this.#tailOpen = false;
    this.#fromPages = new Set();
  }
}
