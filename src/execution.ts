import type {protos} from '@google-cloud/run';
import {Status} from 'google-gax';
import type {CloudRun, Execution, Job, Operation, Task} from './clients.ts';
import {abortable} from './abort.ts';
import {ActionError, explain, OperationFailed, rpcCode} from './errors.ts';
import {runMessage} from './gax.ts';
import type {Inputs} from './inputs.ts';
import {isFinished} from './outcome.ts';
import {withRetries, type RetryPolicy} from './retry.ts';
import {millis} from './time.ts';

/** How long one WaitOperation call may hold; the server may answer sooner. */
const LONG_POLL_SECONDS = 30;
/** Between GetExecution reads when the server offers no WaitOperation. */
const POLL_MS = 3000;
/** How long a CancelExecution may take before the action stops waiting for its answer. */
const CANCEL_BOUND_MS = 5000;

export interface Waiting {
  retry: RetryPolicy;
  /** Stop waiting at this time (ms since the epoch). */
  deadline: number;
  onProgress: (line: string) => void;
  /** Fires when the workflow is cancelled. */
  signal: AbortSignal;
}

/** The execution outlived the run's one deadline, derived from its task timeout and retries. */
export class WaitDeadline extends Error {
  override name = 'WaitDeadline';
}

/** decodeJob reads the Job packed in an operation's response, in the shape unary calls return. */
const decodeJob = (any?: {value?: unknown} | null): Job | undefined => {
  if (!any?.value) return undefined;
  const type = runMessage('Job');
  return type.toObject(type.decode(any.value as Uint8Array), {longs: String, enums: String});
};

/**
 * awaitJobOperation long-polls a job operation until it is done and returns its result, or throws
 * its error as OperationFailed. Used for job writes, whose operation ends when the job is ready.
 */
export async function awaitJobOperation(cloud: CloudRun, first: Operation, waiting: Waiting): Promise<Job | undefined> {
  let op = first;
  while (!op.done) {
    if (Date.now() > waiting.deadline) throw new ActionError(`Operation ${first.name} did not finish in time.`);
    op = await withRetries(() => cloud.waitOperation(first.name as string, LONG_POLL_SECONDS), waiting.retry);
  }
  if (op.error) throw new OperationFailed(op.error);
  return decodeJob(op.response);
}

/**
 * runOverrides holds what a run of the job as it is may change: args, env and timeout, for the
 * container named `container` (a job with several containers needs the name).
 */
export function runOverrides(inputs: Inputs, container?: string): protos.google.cloud.run.v2.RunJobRequest.IOverrides | undefined {
  if (inputs.ownsSpec) return undefined;
  const override = {
    ...(inputs.args && {args: inputs.args, clearArgs: inputs.args.length === 0}),
    ...(inputs.env.length > 0 && {env: inputs.env}),
  };
  const overrides = {
    ...(Object.keys(override).length > 0 && {containerOverrides: [{...(container && {name: container}), ...override}]}),
    ...(inputs.timeoutSeconds !== undefined && {timeout: {seconds: inputs.timeoutSeconds}}),
  };
  return Object.keys(overrides).length > 0 ? overrides : undefined;
}

/** The job changed after this run prepared it, so RunJob refused to run it (its etag no longer matched). */
export class JobChanged extends Error {
  override name = 'JobChanged';
}

export interface Started {
  /** The run's operation; unknown when its answer was lost and the execution was found instead. */
  operation?: string;
  execution: Execution;
}

/** After these, RunJob may or may not have created an execution: its answer was lost. */
const AMBIGUOUS = new Set<number>([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.UNKNOWN, Status.INTERNAL]);
/** How far a server's create_time may run behind this machine's clock. */
const CLOCK_SKEW_MS = 5000;
/** How long an execution a lost RunJob created may take to show in the list. */
const SETTLE_MS = 2000;

/**
 * startExecution runs the job once. The etag pins the job as this run last saw it, so a
 * change made by someone else in between makes the call fail rather than run their spec.
 * RunJob is not idempotent: when its answer is lost, the execution it may have created is
 * looked for before it is sent again, once, so the migration never runs twice.
 */
export async function startExecution(
  cloud: CloudRun,
  job: Job,
  overrides: protos.google.cloud.run.v2.RunJobRequest.IOverrides | undefined,
  retry: RetryPolicy,
  io: {info(line: string): void},
): Promise<Started> {
  const name = job.name as string;
  const sentAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const [op] = await cloud.jobs.runJob({name, etag: job.etag, ...(overrides && {overrides})});
      const execution = op.metadata as Execution | null;
      if (!op.name || !execution?.name) throw new ActionError(`Cloud Run accepted the run of ${name} but named no execution.`);
      return {operation: op.name, execution};
    } catch (err) {
      // Another run wrote the job after this one read it: nothing ran, and the caller looks again.
      if (rpcCode(err) === Status.ABORTED) throw new JobChanged(name);
      if (!AMBIGUOUS.has(rpcCode(err) ?? -1)) throw explain(err, 'RunJob', name);
      const created = await createdSince(cloud, name, sentAt, retry);
      if (created.length === 1) {
        io.info(`The answer to RunJob was lost; execution ${shortName(created[0])}, created by it, is this run's.`);
        return {execution: created[0]};
      }
      if (created.length > 1) {
        throw new ActionError(
          `The answer to RunJob was lost, and executions ${created.map(shortName).join(', ')} of job ${name} started since: ` +
            'which one is this run\'s cannot be told. Check them before running again.',
        );
      }
      if (attempt === 2) throw explain(err, 'RunJob', name);
    }
  }
}

/** createdSince lists the executions of a job created since a time, after letting a lost one show up. */
async function createdSince(cloud: CloudRun, job: string, since: number, retry: RetryPolicy): Promise<Execution[]> {
  await retry.sleep(SETTLE_MS, retry.signal);
  const [executions] = await withRetries(() => cloud.executions.listExecutions({parent: job, pageSize: 20}, {autoPaginate: false}), retry);
  return executions.filter((e) => millis(e.createTime) >= since - CLOCK_SKEW_MS);
}

const shortName = (execution: Execution) => String(execution.name).split('/').pop();

/**
 * waitForExecution returns the execution once it has finished. WaitOperation wakes it as soon
 * as the run's operation is done; the verdict is then read from the Execution itself, since
 * the operation reports a cancelled execution as a success.
 */
export async function waitForExecution(cloud: CloudRun, started: Started, waiting: Waiting): Promise<Execution> {
  const name = started.execution.name as string;
  const {signal} = waiting;
  const read = () =>
    abortable(
      withRetries(async () => (await cloud.executions.getExecution({name}, {timeout: 20_000}))[0], waiting.retry),
      signal,
    ).catch((err) => {
      throw signal.aborted ? err : stateUnknown(name, err);
    });
  let longPoll = started.operation !== undefined;
  let settle = 250;
  let lastProgress = '';
  for (;;) {
    const remaining = Math.ceil((waiting.deadline - Date.now()) / 1000);
    if (remaining <= 0) throw new WaitDeadline(`execution ${name} outlived its deadline`);
    let done = false;
    if (longPoll) {
      try {
        const op = await abortable(
          withRetries(
            () => cloud.waitOperation(started.operation as string, Math.min(LONG_POLL_SECONDS, remaining), signal),
            waiting.retry,
          ),
          signal,
        );
        done = Boolean(op.done);
      } catch (err) {
        if (signal.aborted) throw err;
        if (rpcCode(err) !== Status.UNIMPLEMENTED) throw stateUnknown(name, err);
        longPoll = false;
      }
    }
    const execution = await read();
    if (isFinished(execution)) return execution;
    const progress = describeProgress(execution);
    if (progress !== lastProgress) waiting.onProgress(progress);
    lastProgress = progress;
    if (!longPoll) await waiting.retry.sleep(POLL_MS, signal);
    else if (done) {
      // The operation is done but the execution does not show it yet: read again shortly.
      await waiting.retry.sleep(settle, signal);
      settle = Math.min(settle * 2, POLL_MS);
    }
  }
}

function describeProgress(execution: Execution): string {
  const total = execution.taskCount ?? 1;
  const parts = [`${execution.succeededCount ?? 0} / ${total} complete`];
  if (execution.runningCount) parts.push(`${execution.runningCount} running`);
  if (execution.retriedCount) parts.push(`${execution.retriedCount} retried`);
  if (execution.failedCount) parts.push(`${execution.failedCount} failed`);
  return parts.join(', ');
}

function stateUnknown(execution: string, err: unknown): ActionError {
  return new ActionError(
    `The state of execution ${execution} cannot be known (${explain(err, 'GetExecution', execution).message}); ` +
      'it may still be running.',
  );
}

/** listTasks lists the tasks of a finished execution, for the exit code and message of the failure. */
export async function listTasks(cloud: CloudRun, execution: string, retry: RetryPolicy): Promise<Task[]> {
  return withRetries(async () => (await cloud.tasks.listTasks({parent: execution}, {autoPaginate: true}))[0], retry);
}

/**
 * cancelExecution asks Cloud Run to stop an execution, within a bound: the runner kills the
 * process 10 s after it signals it, and a hung call must not use up that time.
 * Returns whether the cancel was accepted.
 */
export async function cancelExecution(cloud: CloudRun, execution: string, io: {debug(m: string): void}): Promise<boolean> {
  try {
    // The call's own deadline bounds it: a hung call would also keep the process alive.
    await cloud.executions.cancelExecution({name: execution}, {timeout: CANCEL_BOUND_MS});
    return true;
  } catch (err) {
    io.debug(`CancelExecution failed: ${explain(err, 'CancelExecution', execution).message}`);
    return false;
  }
}
