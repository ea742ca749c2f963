// Time as the API carries it (google.protobuf.Timestamp / Duration), from one
// clock per emulator that never repeats a value, so log entries written in
// sequence also sort in sequence by timestamp.
import {invalidArgument} from './errors.ts';

export interface Timestamp {
  seconds: string;
  nanos: number;
}

export interface Duration {
  seconds?: string | number;
  nanos?: number;
}

export class Clock {
  #last = 0;

  /** Microseconds since the epoch, strictly increasing across calls. */
  nowMicros(): number {
    this.#last = Math.max(Date.now() * 1000, this.#last + 1);
    return this.#last;
  }

  now(): Timestamp {
    return timestamp(this.nowMicros());
  }
}

export function timestamp(micros: number): Timestamp {
  return {seconds: String(Math.floor(micros / 1e6)), nanos: (micros % 1e6) * 1000};
}

export function timestampNanos(value: Timestamp): bigint {
  return BigInt(value.seconds) * 1_000_000_000n + BigInt(value.nanos ?? 0);
}

export function durationMs(value: Duration): number {
  return Number(value.seconds ?? 0) * 1000 + (value.nanos ?? 0) / 1e6;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** Nanoseconds since the epoch of an RFC 3339 timestamp such as 2024-05-01T12:00:00.5Z. */
export function parseRfc3339(text: string): bigint {
  const match = RFC3339.exec(text);
  const millis = match ? Date.parse(`${match[1]}${match[3]!.toUpperCase()}`) : NaN;
  if (!match || Number.isNaN(millis)) throw invalidArgument(`Invalid filter: '${text}' is not an RFC 3339 timestamp`);
  return BigInt(millis) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}
