// How an attempt's end is reported: the task's TaskAttemptResult, the failure
// message its conditions carry, and the platform lines Cloud Run logs to
// run.googleapis.com/varlog/system.
import {status} from '@grpc/grpc-js';
import type {ConditionReason} from './conditions.ts';
import {mebibytes} from './memory.ts';
import type {Message} from './protos.ts';
import {type AttemptOutcome, signalNumber} from './runner.ts';

/**
 * What an attempt killed at its memory limit shows besides its message: whether Cloud Run sets
 * term_signal (9), exit_code (137) or neither is unverified; real runs' conditions read
 * "failed with exit code: 0", so exit_code at least is not a real exit code.
 */
export type OutOfMemoryResult = 'term_signal' | 'exit_code' | 'none';

export interface TaskFailure {
  message: string;
  reason?: ConditionReason;
}

export interface SystemLine {
  severity: string;
  text: string;
}

export interface AttemptReport {
  succeeded: boolean;
  /** A google.cloud.run.v2.TaskAttemptResult. */
  result: Message;
  failure?: TaskFailure;
  systemLines: SystemLine[];
}

const EXIT_ERROR_MESSAGE = 'The container exited with an error.';
const TIMEOUT_MESSAGE = 'The configured timeout was reached.';
const MEMORY_MESSAGE = 'The configured memory limit was reached.';
export const TASK_CANCELLED_MESSAGE = 'The task was cancelled.';

/** The line logged when an attempt is stopped for running past its timeout. */
export function timeoutLine(timeoutMs: number): SystemLine {
  const seconds = Number((timeoutMs / 1000).toFixed(3));
  return {
    severity: 'WARNING',
    text: `Terminating task because it has reached the maximum timeout of ${seconds} seconds. To change this limit, see https://cloud.google.com/run/docs/configuring/task-timeout`,
  };
}

/**
 * The lines logged when a task starts and finishes migrating in a maintenance event: the
 * task-timeout docs say Cloud Run logs both, but not in which words or at which severity.
 */
export const MIGRATION_LINES = {
  started: {severity: 'INFO', text: 'Task migration started: the task is paused while it moves to another machine.'},
  finished: {severity: 'INFO', text: 'Task migration finished: the task was resumed.'},
} satisfies Record<string, SystemLine>;

/** The line logged when an attempt is killed for holding more memory than its limit. */
export function memoryLine(limitBytes: number, usedBytes: number): SystemLine {
  return {
    severity: 'ERROR',
    text: `Memory limit of ${mebibytes(limitBytes)} MiB exceeded with ${mebibytes(usedBytes)} MiB used. Consider increasing the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits`,
  };
}

/**
 * The platform's last line for an attempt whose container ran: how it ended,
 * whether it exited by itself, was stopped (timeout, cancellation) or crashed.
 */
function endLine(outcome: AttemptOutcome): SystemLine {
  if (outcome.signal) return {severity: 'WARNING', text: `Container terminated on signal ${signalNumber(outcome.signal)}.`};
  return {severity: outcome.exitCode === 0 ? 'INFO' : 'WARNING', text: `Container called exit(${outcome.exitCode}).`};
}

const OUT_OF_MEMORY_ENDING: Record<OutOfMemoryResult, Message> = {
  term_signal: {termSignal: signalNumber('SIGKILL')},
  exit_code: {exitCode: 128 + signalNumber('SIGKILL')},
  none: {},
};

export function describeOutcome(outcome: AttemptOutcome, outOfMemory: OutOfMemoryResult): AttemptReport {
  if (outcome.startError) {
    const message = outcome.startError;
    return {
      succeeded: false,
      result: {status: {code: status.UNKNOWN, message}},
      failure: {message},
      systemLines: [{severity: 'ERROR', text: message}],
    };
  }
  // "At most one of exit_code or term_signal will be set." (task.proto)
  const ending: Message =
    outcome.memoryUsed !== undefined
      ? OUT_OF_MEMORY_ENDING[outOfMemory]
      : outcome.signal
        ? {termSignal: signalNumber(outcome.signal)}
        : {exitCode: outcome.exitCode};
  const systemLines = [endLine(outcome)];
  const failed = (code: number, message: string, reason?: ConditionReason): AttemptReport => ({
    succeeded: false,
    result: {status: {code, message}, ...ending},
    failure: {message, ...(reason ? {reason} : {})},
    systemLines,
  });
  // Neither the status code nor a reason shows in any public message of an out-of-memory kill.
  if (outcome.memoryUsed !== undefined) return failed(status.RESOURCE_EXHAUSTED, MEMORY_MESSAGE);
  if (outcome.cancelled) return failed(status.CANCELLED, TASK_CANCELLED_MESSAGE, {executionReason: 'CANCELLED'});
  // There is no timeout-specific ExecutionReason, so a timeout carries none.
  if (outcome.timedOut) return failed(status.DEADLINE_EXCEEDED, TIMEOUT_MESSAGE);
  if (outcome.exitCode === 0) return {succeeded: true, result: {status: {code: status.OK}, ...ending}, systemLines};
  return failed(status.UNKNOWN, EXIT_ERROR_MESSAGE, {executionReason: 'NON_ZERO_EXIT_CODE'});
}
