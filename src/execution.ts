import {protos} from '@google-cloud/run';
import {Status} from 'google-gax';
import type {CloudRun, Execution, Job, Operation, Task} from './clients.ts';
import {ActionError, explain, rpcCode} from './errors.ts';
import type {Inputs} from './inputs.ts';
import {isFinished} from './outcome.ts';
import {withRetries, type RetryPolicy} from './retry.ts';

/** How long one WaitOperation call may hold; the server may answer sooner. */
const LONG_POLL_SECONDS = 30;
/** Between GetExecution reads when the server offers no WaitOperation. */
const POLL_MS = 3000;

export interface Waiting {
  retry: RetryPolicy;
  /** Give up waiting at this time (ms since the epoch): the state is then unknown. */
  deadline: number;
  onProgress: (line: string) => void;
}

const decode = <T>(type: {decode(b: Uint8Array): object; toObject(m: object, o: object): object}, any?: {value?: unknown} | null) =>
  (any?.value ? type.toObject(type.decode(any.value as Uint8Array), {longs: String, enums: String}) : undefined) as
    | T
    | undefined;

/**
 * awaitJobOperation long-polls a job operation until it is done and returns its result, or throws
 * its error. Used for UpdateJob, whose operation ends when the job is ready.
 */
export async function awaitJobOperation(cloud: CloudRun, first: Operation, waiting: Waiting): Promise<Job | undefined> {
  let op = first;
  while (!op.done) {
    if (Date.now() > waiting.deadline) throw new ActionError(`Operation ${first.name} did not finish in time.`);
    op = await withRetries(() => cloud.waitOperation(first.name as string, LONG_POLL_SECONDS), waiting.retry);
  }
  if (op.error) throw Object.assign(new Error(op.error.message ?? 'the operation failed'), {code: op.error.code});
  return decode<Job>(protos.google.cloud.run.v2.Job, op.response);
}

/** runOverrides holds what a run of the job as it is may change: args, env and timeout. */
export function runOverrides(inputs: Inputs): protos.google.cloud.run.v2.RunJobRequest.IOverrides | undefined {
  if (inputs.ownsSpec) return undefined;
  const container = {
    ...(inputs.args && {args: inputs.args, clearArgs: inputs.args.length === 0}),
    ...(inputs.env.length > 0 && {env: inputs.env}),
  };
  const overrides = {
    ...(Object.keys(container).length > 0 && {containerOverrides: [container]}),
    ...(inputs.timeoutSeconds !== undefined && {timeout: {seconds: inputs.timeoutSeconds}}),
  };
  return Object.keys(overrides).length > 0 ? overrides : undefined;
}

export interface Started {
  operation: string;
  execution: Execution;
}

/**
 * startExecution runs the job once. The etag pins the job as this run last saw it, so a
 * change made by someone else in between makes the call fail rather than run their spec.
 * RunJob is never retried here: it is not idempotent, and a blind retry could start a
 * second migration.
 */
export async function startExecution(
  cloud: CloudRun,
  job: Job,
  overrides: protos.google.cloud.run.v2.RunJobRequest.IOverrides | undefined,
): Promise<Started> {
  try {
    const [op] = await cloud.jobs.runJob({name: job.name, etag: job.etag, ...(overrides && {overrides})});
    const execution = op.metadata as Execution | null;
    if (!op.name || !execution?.name) throw new ActionError(`Cloud Run accepted the run of ${job.name} but named no execution.`);
    return {operation: op.name, execution};
  } catch (err) {
    if (rpcCode(err) === Status.ABORTED) {
      throw new ActionError(
        `Job ${job.name} was changed by someone else between this run's update and its start; nothing was run. Run the workflow again.`,
      );
    }
    throw explain(err, 'RunJob', job.name ?? '');
  }
}

/**
 * waitForExecution returns the execution once it has finished. WaitOperation wakes it as soon
 * as the run's operation is done; the verdict is then read from the Execution itself, since
 * the operation reports a cancelled execution as a success.
 */
export async function waitForExecution(cloud: CloudRun, started: Started, waiting: Waiting): Promise<Execution> {
  const name = started.execution.name as string;
  const read = () =>
    withRetries(async () => (await cloud.executions.getExecution({name}, {timeout: 20_000}))[0], waiting.retry).catch(
      (err) => {
        throw stateUnknown(name, err);
      },
    );
  let longPoll = true;
  let settle = 250;
  let lastProgress = '';
  for (;;) {
    const remaining = Math.ceil((waiting.deadline - Date.now()) / 1000);
    if (remaining <= 0) throw stateUnknown(name, new Error('the wait deadline passed'));
    let done = false;
    if (longPoll) {
      try {
        const op = await withRetries(
          () => cloud.waitOperation(started.operation, Math.min(LONG_POLL_SECONDS, remaining)),
          waiting.retry,
        );
        done = Boolean(op.done);
      } catch (err) {
        if (rpcCode(err) !== Status.UNIMPLEMENTED) throw stateUnknown(name, err);
        longPoll = false;
      }
    }
    const execution = await read();
    if (isFinished(execution)) return execution;
    const progress = describeProgress(execution);
    if (progress !== lastProgress) waiting.onProgress(progress);
    lastProgress = progress;
    if (!longPoll) await waiting.retry.sleep(POLL_MS);
    else if (done) {
      // The operation is done but the execution does not show it yet: read again shortly.
      await waiting.retry.sleep(settle);
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
