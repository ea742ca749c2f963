// Cloud Logging's read quotas, per project, as its quota page lists them: ListLogEntries
// requests per minute (60, not raisable) and open TailLogEntries sessions (10). A read
// beyond the quota fails with RESOURCE_EXHAUSTED and the message real answers carry; the
// ErrorInfo details they also carry (reason RATE_LIMIT_EXCEEDED) are not sent. How the
// minute is counted is not published: here a project's reads are a bucket of a minute's
// worth that refills steadily, so a burst is allowed and then one read per 1/60 minute.
import {status} from '@grpc/grpc-js';
import {RpcError} from './errors.ts';

export interface LogQuotaOptions {
  /** ListLogEntries calls per project per minute; default 60. */
  readsPerMinute?: number;
  /** TailLogEntries sessions open at once per project; default 10. */
  tailSessions?: number;
  /** Entries one tail session sends in any 60 s before it drops the rest (suppression_info RATE_LIMIT); default no limit. */
  tailEntriesPerMinute?: number;
}

const MINUTE_MS = 60_000;

/** A stable stand-in for a project's number, which the real message names. */
const projectNumber = (project: string) =>
  String([...project].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) % 1e12, 7)).padStart(12, '1');

export class LogQuotas {
  readonly readsPerMinute: number;
  readonly tailSessions: number;
  readonly tailEntriesPerMinute: number;
  /** Per project, the reads left and when they were counted. */
  readonly #reads = new Map<string, {left: number; at: number}>();
  readonly #tails = new Map<string, number>();
  readonly #peakTails = new Map<string, number>();

  constructor(options: LogQuotaOptions = {}) {
    this.readsPerMinute = options.readsPerMinute ?? 60;
    this.tailSessions = options.tailSessions ?? 10;
    this.tailEntriesPerMinute = options.tailEntriesPerMinute ?? Infinity;
  }

  /** Counts one ListLogEntries call against its project, or refuses it. */
  read(project: string): void {
    const now = Date.now();
    const bucket = this.#reads.get(project) ?? {left: this.readsPerMinute, at: now};
    bucket.left = Math.min(this.readsPerMinute, bucket.left + ((now - bucket.at) * this.readsPerMinute) / MINUTE_MS);
    bucket.at = now;
    this.#reads.set(project, bucket);
    if (bucket.left < 1) {
      throw new RpcError(
        status.RESOURCE_EXHAUSTED,
        `Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'logging.googleapis.com' for consumer 'project_number:${projectNumber(project)}'.`,
      );
    }
    bucket.left -= 1;
  }

  /** Opens a tail session in a project, or refuses it; returns the function that closes it. */
  openTail(project: string): () => void {
    const open = this.#tails.get(project) ?? 0;
    // The code is gcloud's reading ("There are too many tail sessions open."); the text is ours.
    if (open >= this.tailSessions) {
      throw new RpcError(status.RESOURCE_EXHAUSTED, `Too many live tailing sessions open in project ${project}: at most ${this.tailSessions}.`);
    }
    this.#tails.set(project, open + 1);
    this.#peakTails.set(project, Math.max(open + 1, this.#peakTails.get(project) ?? 0));
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.#tails.set(project, (this.#tails.get(project) ?? 1) - 1);
    };
  }

  /** Tail sessions open now in a project, and the most ever open at once. */
  tails(project: string): {open: number; peak: number} {
    return {open: this.#tails.get(project) ?? 0, peak: this.#peakTails.get(project) ?? 0};
  }
}
