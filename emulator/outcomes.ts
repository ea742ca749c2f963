// How an attempt's end is reported: the task's TaskAttemptResult, the failure
// message its conditions carry, and the platform lines Cloud Run logs to
// run.googleapis.com/varlog/system.
import {status} from '@grpc/grpc-js';
import type {ConditionReason} from './conditions.ts';
import type {Message} from './protos.ts';
import {type AttemptOutcome, signalNumber} from './runner.ts';

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
 * The platform's last line for an attempt whose container ran: how it ended,
 * whether it exited by itself, was stopped (timeout, cancellation) or crashed.
 */
function endLine(outcome: AttemptOutcome): SystemLine {
  if (outcome.signal) return {severity: 'WARNING', text: `Container terminated on signal ${signalNumber(outcome.signal)}.`};
  return {severity: outcome.exitCode === 0 ? 'INFO' : 'WARNING', text: `Container called exit(${outcome.exitCode}).`};
}

export function describeOutcome(outcome: AttemptOutcome): AttemptReport {
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
  const ending: Message = outcome.signal ? {termSignal: signalNumber(outcome.signal)} : {exitCode: outcome.exitCode};
  const systemLines = [endLine(outcome)];
  const failed = (code: number, message: string, reason?: ConditionReason): AttemptReport => ({
    succeeded: false,
    result: {status: {code, message}, ...ending},
    failure: {message, ...(reason ? {reason} : {})},
    systemLines,
  });
  if (outcome.cancelled) return failed(status.CANCELLED, TASK_CANCELLED_MESSAGE, {executionReason: 'CANCELLED'});
  // There is no timeout-specific ExecutionReason, so a timeout carries none.
  if (outcome.timedOut) return failed(status.DEADLINE_EXCEEDED, TIMEOUT_MESSAGE);
  if (outcome.exitCode === 0) return {succeeded: true, result: {status: {code: status.OK}, ...ending}, systemLines};
  return failed(status.UNKNOWN, EXIT_ERROR_MESSAGE, {executionReason: 'NON_ZERO_EXIT_CODE'});
}
