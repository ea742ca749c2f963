import type {Execution, Task} from './clients.ts';
import {millis, type Timestamp} from './time.ts';

export type Status = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

export interface Outcome {
  status: Status;
  /** The failing task's exit code, when its container exited by itself. */
  exitCode?: number;
  /** What happened, as the end of a sentence: "exited with code 3", "timed out"... */
  what: string;
}

type Condition = NonNullable<Execution['conditions']>[number];

/** The API has no timeout-specific reason: this message, on the execution or task, is the marker. */
const TIMEOUT_MESSAGE = 'The configured timeout was reached';

// Unary calls return enums as strings; LRO payloads as numbers. Accept both.
const is = (value: unknown, name: string, number: number) => value === name || value === number;

const completedCondition = (execution: Execution): Condition | undefined =>
  execution.conditions?.find((c) => c.type === 'Completed');

/**
 * isFinished is true once the execution has a verdict: a completion time and a Completed
 * condition that is no longer pending. Anything ambiguous counts as still running.
 */
export function isFinished(execution: Execution): boolean {
  const completed = completedCondition(execution);
  return (
    Boolean(execution.completionTime) &&
    (is(completed?.state, 'CONDITION_SUCCEEDED', 4) || is(completed?.state, 'CONDITION_FAILED', 3))
  );
}

/** hasStarted is false for an execution that ended before any task ran (a missing image, say). */
export function hasStarted(execution: Execution): boolean {
  return Boolean(execution.conditions?.some((c) => c.type === 'Started' && is(c.state, 'CONDITION_SUCCEEDED', 4)));
}

/**
 * judge reads the verdict from a finished execution and, for a failure, from its failed
 * tasks' last attempts, which hold the exit code the condition message leaves out.
 */
export function judge(execution: Execution, tasks: Task[]): Outcome {
  const completed = completedCondition(execution);
  const taskCount = execution.taskCount ?? 1;
  const succeeded = execution.succeededCount ?? 0;
  if (is(completed?.state, 'CONDITION_SUCCEEDED', 4)) {
    if (succeeded === taskCount && !execution.failedCount && !execution.cancelledCount) {
      return {status: 'succeeded', exitCode: 0, what: 'succeeded'};
    }
    return {status: 'failed', what: `reported success, but only ${succeeded} of ${taskCount} tasks succeeded`};
  }
  if (is(completed?.executionReason, 'CANCELLED', 3) || is(completed?.executionReason, 'CANCELLING', 4)) {
    return {status: 'cancelled', what: 'was cancelled'};
  }
  const failed = tasks.find((t) => t.lastAttemptResult && t.lastAttemptResult.status?.code) ?? tasks[0];
  const attempt = failed?.lastAttemptResult;
  const messages = [completed?.message, attempt?.status?.message].filter(Boolean).join(' ');
  if (messages.includes(TIMEOUT_MESSAGE)) return {status: 'timed_out', what: 'timed out (the task timeout was reached)'};
  if (is(completed?.reason, 'CONTAINER_MISSING', 6)) {
    return {status: 'failed', what: `could not start: ${completed?.message || 'the image was not found'}`};
  }
  const exitCode = attempt?.exitCode ?? undefined;
  if (exitCode) return {status: 'failed', exitCode, what: `exited with code ${exitCode}`};
  if (attempt?.termSignal) return {status: 'failed', what: `was killed by signal ${attempt.termSignal}`};
  return {status: 'failed', what: `failed: ${completed?.message || 'no reason was given'}`};
}

/** Seconds between two protobuf timestamps, to one decimal. */
export function seconds(from: Timestamp, to: Timestamp): number | undefined {
  if (!from || !to) return undefined;
  return Math.round((millis(to) - millis(from)) / 100) / 10;
}
