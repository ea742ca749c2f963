import type {Execution, Task} from './clients.ts';
import {millis, type Timestamp} from './time.ts';

export type Status = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

export interface Outcome {
  status: Status;
  /** The failing task's exit code, when its container exited by itself; 0 on success. */
  exitCode?: number;
  /** How the execution ended, as a sentence's verb: "succeeded", "failed", "timed out", "could not start"... */
  ended: string;
  /** For a failure, why (in the platform's words where it gave some) and what to do: whole sentences. */
  reason?: string;
  /** False when no task ran, so the time it took says nothing. */
  ran: boolean;
}

type Condition = NonNullable<Execution['conditions']>[number];

// The API has no reason for these: the attempt's (or the condition's) message is the marker.
const TIMEOUT_MESSAGE = 'The configured timeout was reached';
const MEMORY_MESSAGE = 'The configured memory limit was reached';
const START_MESSAGE = 'Application failed to start';
const SECRET_NOT_FOUND = /Secret (projects\/[^/\s]+\/secrets\/[^/\s]+)\/versions\/([^/\s]+) was not found/;

/** Cloud Run's memory limit for a container that sets none. */
const DEFAULT_MEMORY = '512Mi';

// Unary calls return enums as strings; LRO payloads as numbers. Accept both.
const is = (value: unknown, name: string, number: number) => value === name || value === number;

const completedCondition = (resource: {conditions?: Condition[] | null}): Condition | undefined =>
  resource.conditions?.find((c) => c.type === 'Completed');

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

/** A platform message as the end of a sentence. */
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

const failedTask = (task: Task) => {
  const completed = completedCondition(task);
  if (is(completed?.executionReason, 'CANCELLED', 3)) return false;
  return is(completed?.state, 'CONDITION_FAILED', 3) || Boolean(task.lastAttemptResult?.status?.code);
};

/**
 * judge reads the verdict from a finished execution and, for a failure, from its failed tasks'
 * last attempts, which hold the exit code, signal and message the condition leaves out. It never
 * reads logs: an organisation may exclude the platform's, and the API says all a verdict needs.
 */
export function judge(execution: Execution, tasks: Task[]): Outcome {
  const completed = completedCondition(execution);
  const taskCount = execution.taskCount ?? 1;
  const succeeded = execution.succeededCount ?? 0;
  if (is(completed?.state, 'CONDITION_SUCCEEDED', 4)) {
    if (succeeded === taskCount && !execution.failedCount && !execution.cancelledCount) {
      return {status: 'succeeded', exitCode: 0, ended: 'succeeded', ran: true};
    }
    return {status: 'failed', ended: 'failed', reason: `Cloud Run reported success, but only ${succeeded} of ${taskCount} tasks succeeded.`, ran: true};
  }
  if (is(completed?.executionReason, 'CANCELLED', 3) || is(completed?.executionReason, 'CANCELLING', 4)) {
    // This run cancels only on its own stop, which reports for itself: here someone else did.
    const reason = 'Someone cancelled it in Cloud Run (the console, gcloud, or another run with concurrency: cancel).';
    return {status: 'cancelled', ended: 'was cancelled', reason, ran: hasStarted(execution)};
  }
  const message = completed?.message ?? '';
  if (is(completed?.reason, 'CONTAINER_MISSING', 6)) {
    const missing = sentence(message || 'The image was not found');
    const advice =
      'Push the image with this same reference before this step; the Cloud Run service agent ' +
      '(service-PROJECT_NUMBER@serverless-robot-prod.iam.gserviceaccount.com) needs read access to it (roles/artifactregistry.reader).';
    return {status: 'failed', ended: 'could not start', reason: `${missing} ${advice}`, ran: false};
  }
  const secret = SECRET_NOT_FOUND.exec(message);
  if (is(completed?.reason, 'SECRETS_ACCESS_CHECK_FAILED', 12) || secret) {
    return {status: 'failed', ended: 'could not start', reason: secretReason(execution, message, secret), ran: false};
  }
  if (!hasStarted(execution)) {
    return {status: 'failed', ended: 'could not start', reason: sentence(message || 'Cloud Run gave no reason'), ran: false};
  }
  return taskFailure(execution, tasks, message);
}

function secretReason(execution: Execution, message: string, secret: RegExpExecArray | null): string {
  const account = execution.template?.serviceAccount
    ? `(${execution.template.serviceAccount})`
    : "(the project's default compute service account, PROJECT_NUMBER-compute@developer.gserviceaccount.com)";
  const check = secret
    ? `Check that secret ${secret[1]} has a version ${secret[2]}`
    : 'Check that each secret the job references exists, with the version it names';
  return `${sentence(message || 'A secret could not be read')} ${check}, and that the job's runtime service account ${account} has roles/secretmanager.secretAccessor on it.`;
}

/** The verdict on an execution whose tasks ran: what the first failed task's last attempt shows. */
function taskFailure(execution: Execution, tasks: Task[], conditionMessage: string): Outcome {
  const failed = tasks.filter(failedTask).sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const task = failed[0];
  const attempt = task?.lastAttemptResult;
  const said = attempt?.status?.message || conditionMessage;
  // Either may carry the marker: the condition names the task, the attempt says what ended it.
  const says = (marker: string) => said.includes(marker) || conditionMessage.includes(marker);
  const taskCount = execution.taskCount ?? 1;
  const failedCount = Math.max(execution.failedCount ?? 0, failed.length);
  const who =
    taskCount <= 1 || !task
      ? 'the container'
      : failedCount > 1
        ? `${failedCount} of ${taskCount} tasks failed; the first, with index ${task.index ?? 0},`
        : `the task with index ${task.index ?? 0} (of ${taskCount} tasks)`;
  const retried = Number(task?.retried ?? 0);
  const attempts = retried > 0 ? ` on the last of ${retried + 1} attempts` : '';
  const because = (what: string, advice = '') =>
    `${who} ${what}${attempts}${said ? `: ${sentence(said)}` : '.'}${advice && ` ${advice}`}`;

  if (says(TIMEOUT_MESSAGE)) {
    const seconds = execution.template?.timeout?.seconds;
    const timeout = seconds === undefined || seconds === null ? 'its task timeout' : `the task timeout of ${Number(seconds)} s`;
    const reason = because(`ran past ${timeout}`, 'Raise the "timeout" input, or find out from the logs why it runs so long.');
    return {status: 'timed_out', ended: 'timed out', reason, ran: true};
  }
  if (says(MEMORY_MESSAGE)) {
    const limit = execution.template?.containers?.[0]?.resources?.limits?.memory;
    const reason = because(`went over its memory limit of ${limit || `${DEFAULT_MEMORY} (Cloud Run's default)`}`, 'Raise the "memory" input.');
    return {status: 'failed', ended: 'failed', reason, ran: true};
  }
  if (says(START_MESSAGE)) {
    return {status: 'failed', ended: 'failed', reason: because('could not be started', 'Check the "command" input and the image\'s entrypoint.'), ran: true};
  }
  const exitCode = attempt?.exitCode || undefined;
  if (exitCode) return {status: 'failed', exitCode, ended: 'failed', reason: because(`exited with code ${exitCode}`), ran: true};
  if (attempt?.termSignal) return {status: 'failed', ended: 'failed', reason: because(`was stopped by signal ${attempt.termSignal}`), ran: true};
  return {status: 'failed', ended: 'failed', reason: sentence(said || 'Cloud Run gave no reason'), ran: true};
}

/** Seconds between two protobuf timestamps, to one decimal. */
export function seconds(from: Timestamp, to: Timestamp): number | undefined {
  if (!from || !to) return undefined;
  return Math.round((millis(to) - millis(from)) / 100) / 10;
}
