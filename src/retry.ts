import {Status} from 'google-gax';
import {rpcCode} from './errors.ts';

/** Codes after which a read is safe and worth trying again. */
const TRANSIENT = new Set<number>([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.INTERNAL,
  Status.RESOURCE_EXHAUSTED,
]);

export interface RetryPolicy {
  /** Give up once this much time has gone by since the first attempt. */
  budgetMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  /** Ends any wait between attempts when the workflow is cancelled. */
  signal?: AbortSignal;
  /** Told of each failed attempt that will be retried, for debug logging. */
  onRetry?: (err: unknown, delayMs: number) => void;
}

export const isTransient = (err: unknown): boolean => TRANSIENT.has(rpcCode(err) ?? -1);

/**
 * withRetries runs a read until it succeeds, fails for good, or the budget runs out.
 * Delays grow exponentially with full jitter, so many runners retrying at once spread out;
 * quota errors start from a longer delay, since retrying them quickly only burns more quota.
 */
export async function withRetries<T>(read: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const start = Date.now();
  let ceiling = policy.initialDelayMs;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (rpcCode(err) === Status.RESOURCE_EXHAUSTED) ceiling = Math.max(ceiling, 10 * policy.initialDelayMs);
      const delay = Math.round(policy.random() * ceiling);
      if (Date.now() - start + delay > policy.budgetMs) throw err;
      policy.onRetry?.(err, delay);
      await policy.sleep(delay, policy.signal);
      ceiling = Math.min(ceiling * 2, policy.maxDelayMs);
    }
  }
}

/**
 * backOff waits before the nth look again (from 0) at a job another writer changed: full jitter
 * under a ceiling that doubles from the policy's first delay, so that runs that keep colliding, or
 * a server that keeps refusing a write as a conflict, are not met with a hot loop of writes.
 */
export function backOff(policy: RetryPolicy, attempt: number): Promise<void> {
  const ceiling = Math.min(policy.initialDelayMs * 2 ** attempt, policy.maxDelayMs);
  return policy.sleep(Math.round(policy.random() * ceiling), policy.signal);
}
