// The Cloud Logging side of task execution: every line a task writes becomes a
// google.logging.v2.LogEntry, shaped as Cloud Run writes them for jobs. An entry can be
// read (ListLogEntries, TailLogEntries) once it is ingested, which can take a while and
// need not follow the order of timestamps, and never if an exclusion drops it.
import {type Clock, timestamp} from './clock.ts';
import {type EntryPredicate, parseFilter} from './filter.ts';
import {randomHex} from './ids.ts';
import type {Message} from './protos.ts';
import {type LogQuotaOptions, LogQuotas} from './quotas.ts';

export type LogStream = 'stdout' | 'stderr' | 'system';

/** Where a line came from: one attempt of one task. */
export interface TaskLogSource {
  project: string;
  location: string;
  job: string;
  execution: string;
  taskIndex: number;
  attempt: number;
  instanceId: string;
}

export interface StoredEntry {
  seq: number;
  project: string;
  nanos: bigint;
  entry: Message;
}

const LOG_IDS: Record<LogStream, string> = {
  stdout: 'run.googleapis.com%2Fstdout',
  stderr: 'run.googleapis.com%2Fstderr',
  system: 'run.googleapis.com%2Fvarlog%2Fsystem',
};

/** Cloud Run writes stdout at DEFAULT and stderr at ERROR severity. */
export const STREAM_SEVERITY = {stdout: 'DEFAULT', stderr: 'ERROR'} as const;

const SEVERITIES = new Set(['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY']);

/** A JSON value as a google.protobuf.Value, the form a jsonPayload is written in. */
function protoValue(value: unknown): Message {
  if (value === null) return {nullValue: 'NULL_VALUE'};
  if (Array.isArray(value)) return {listValue: {values: value.map(protoValue)}};
  if (typeof value === 'number') return {numberValue: value};
  if (typeof value === 'string') return {stringValue: value};
  if (typeof value === 'boolean') return {boolValue: value};
  return {structValue: protoStruct(value as Record<string, unknown>)};
}

const protoStruct = (object: Record<string, unknown>): Message => ({
  fields: Object.fromEntries(Object.entries(object).map(([key, value]) => [key, protoValue(value)])),
});

/**
 * A line that is one JSON object is a structured log, as Cloud Run's logging agent reads it: the
 * object becomes the entry's jsonPayload, and its severity field, when it names a severity, the
 * entry's severity instead of the stream's. (Of the agent's other special fields, none is read.)
 */
function payloadOf(text: string, severity: string): Message {
  let parsed: unknown;
  try {
    parsed = text.trimStart().startsWith('{') ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return {textPayload: text, severity};
  const {severity: named, ...rest} = parsed as Record<string, unknown>;
  if (typeof named === 'string' && SEVERITIES.has(named.toUpperCase())) {
    return {jsonPayload: protoStruct(rest), severity: named.toUpperCase()};
  }
  return {jsonPayload: protoStruct(parsed as Record<string, unknown>), severity};
}

export interface LogStoreOptions {
  /** Every entry can be read only this long after it was written; default 0. */
  ingestionDelayMs?: number;
  /** Every `every`th entry is ingested `delayMs` later still, after entries with later timestamps. */
  lateEntries?: {every: number; delayMs: number};
  /** Filters in the Logging query language: entries matching one are never stored, as a sink exclusion does. */
  exclusions?: string[];
  quotas?: LogQuotaOptions;
}

export class LogStore {
  readonly quotas: LogQuotas;
  readonly #clock: Clock;
  readonly #written: StoredEntry[] = [];
  readonly #ingested: StoredEntry[] = [];
  readonly #listeners = new Set<(entry: StoredEntry) => void>();
  readonly #insertIdPrefix = randomHex(4);
  readonly #delayMs: number;
  readonly #late?: {every: number; delayMs: number};
  readonly #excluded: EntryPredicate[];
  readonly #pending = new Set<NodeJS.Timeout>();

  constructor(clock: Clock, options: LogStoreOptions = {}) {
    this.#clock = clock;
    this.quotas = new LogQuotas(options.quotas);
    this.#delayMs = options.ingestionDelayMs ?? 0;
    this.#late = options.lateEntries;
    this.#excluded = (options.exclusions ?? []).map(filter => parseFilter(filter));
  }

  write(source: TaskLogSource, stream: LogStream, severity: string, text: string): void {
    const micros = this.#clock.nowMicros();
    const seq = this.#written.length + 1;
    const entry: Message = {
      logName: `projects/${source.project}/logs/${LOG_IDS[stream]}`,
      resource: {
        type: 'cloud_run_job',
        labels: {project_id: source.project, job_name: source.job, location: source.location},
      },
      labels: {
        'run.googleapis.com/execution_name': source.execution,
        'run.googleapis.com/task_index': String(source.taskIndex),
        'run.googleapis.com/task_attempt': String(source.attempt),
        instanceId: source.instanceId,
      },
      ...(stream === 'system' ? {textPayload: text, severity} : payloadOf(text, severity)),
      timestamp: timestamp(micros),
      receiveTimestamp: timestamp(micros),
      // Zero-padded, so insert ids sort in write order as timestamps do.
      insertId: `${this.#insertIdPrefix}${seq.toString(16).padStart(12, '0')}`,
    };
    const stored = {seq, project: source.project, nanos: BigInt(micros) * 1000n, entry};
    this.#written.push(stored);
    if (this.#excluded.some(excluded => excluded(entry))) return;
    const delay = this.#delayMs + (this.#late && seq % this.#late.every === 0 ? this.#late.delayMs : 0);
    if (delay <= 0) return this.#ingest(stored);
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      this.#ingest(stored);
    }, delay).unref();
    this.#pending.add(timer);
  }

  /** Every entry written, ingested or not. */
  written(): readonly StoredEntry[] {
    return this.#written;
  }

  /** The entries that can be read, in the order they were ingested. */
  entries(): readonly StoredEntry[] {
    return this.#ingested;
  }

  /** Drops what is still waiting to be ingested. */
  stop(): void {
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
  }

  #ingest(stored: StoredEntry): void {
    this.#ingested.push(stored);
    for (const listener of this.#listeners) listener(stored);
  }

  /** Calls `listener` with every entry ingested from now on; returns the unsubscribe function. */
  subscribe(listener: (entry: StoredEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
