import type {protos} from '@google-cloud/run';
import {Status} from 'google-gax';
import type {CloudRun, Execution, Job, Operation, Task} from './clients.ts';
import {abortable} from './abort.ts';
import {ActionError, errorMessage, explain, OperationFailed, rpcCode} from './errors.ts';
import {runMessage} from './gax.ts';
import type {Inputs} from './inputs.ts';
import {isFinished} from './outcome.ts';
import {Pace, READ_FLOOR_MS} from './pace.ts';
import {isTransient, withRetries, type RetryPolicy} from './retry.ts';
import {millis} from './time.ts';

/** How long one WaitOperation call may hold; the server may answer sooner. */
const LONG_POLL_SECONDS = 30;
/** How long a CancelExecution may take before the action stops waiting for its answer. */
const CANCEL_BOUND_MS = 5000;

/**
 * Wake is a hint from outside Cloud Run that the execution is ending, such as the platform's
 * `Container called exit(N).` lines in its log, which come a few seconds before the execution
 * shows it completed. Once fired, the wait reads the execution at its floor until it shows
 * finished, instead of waiting for the end of a long poll; the hint itself costs no read. It stays
 * fired, so a hint that comes before the wait begins is not lost.
 */
export class Wake extends EventTarget {
  #fired = false;

  get fired(): boolean {
    return this.#fired;
  }

  fire(): void {
    if (this.#fired) return;
    this.#fired = true;
    this.dispatchEvent(new Event('wake'));
  }
}

export interface Waiting {
  retry: RetryPolicy;
  /** Stop waiting at this time (ms since the epoch). */
  deadline: number;
  onProgress: (line: string) => void;
  /** Fires when the workflow is cancelled. */
  signal: AbortSignal;
  /** Told why the wait changed how it reads, for debug logging. */
  onNote?: (line: string) => void;
  wake?: Wake;
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
 * its error as OperationFailed. Used for job writes, whose operation ends when the job is ready. Each
 * call waits its turn, and when WaitOperation fails for good the operation is read with GetOperation instead.
 */
export async function awaitJobOperation(cloud: CloudRun, first: Operation, waiting: Waiting): Promise<Job | undefined> {
  const name = first.name as string;
  const pace = new Pace(waiting.retry.sleep, waiting.signal);
  let longPoll = true;
  let op = first;
  while (!op.done) {
    if (Date.now() > waiting.deadline) throw new ActionError(`Operation ${first.name} did not finish in time.`);
    const read = async () => {
      await pace.turn();
      return longPoll ? cloud.waitOperation(name, LONG_POLL_SECONDS, waiting.signal) : cloud.getOperation(name);
    };
    op = await withRetries(read, waiting.retry).catch((err) => {
      if (!longPoll || waiting.signal.aborted) throw err;
      waiting.onNote?.(`WaitOperation ${name} failed (${errorMessage(err)}); reading the operation instead.`);
      longPoll = false;
      return op;
    });
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

/** What one long poll of the run's operation told. */
type Held =
  | {done: boolean; early: boolean}
  | {error: unknown}
  /** A read made on a wake-up found the execution finished. */
  | {finished: Execution};

/**
 * waitForExecution returns the execution once it has finished, making at most one Cloud Run read
 * per floor (src/pace.ts). WaitOperation wakes it as soon as the run's operation is done; the
 * verdict is then read from the Execution itself, since the operation reports a cancelled execution
 * as a success. The operation is done exactly when the execution completes, so a long poll that
 * answers "not done" needs no read of the execution to confirm it: the next long poll starts at
 * once, and the execution is read during it, for progress. A long poll that answers before the floor
 * is no long poll, and one that fails for good (or keeps failing for the retry budget) is given up:
 * the execution is then read at the floor's pace, which notices completion one floor after it at
 * the latest.
 */
export async function waitForExecution(cloud: CloudRun, started: Started, waiting: Waiting): Promise<Execution> {
  const name = started.execution.name as string;
  const {signal} = waiting;
  const pace = new Pace(waiting.retry.sleep, signal);
  const read = () =>
    abortable(
      withRetries(async () => {
        await pace.turn();
        return (await cloud.executions.getExecution({name}, {timeout: 20_000}))[0];
      }, waiting.retry),
      signal,
    ).catch((err) => {
      throw signal.aborted ? err : stateUnknown(name, err);
    });
  let lastProgress = '';
  const progress = (execution: Execution) => {
    const line = describeProgress(execution);
    if (line !== lastProgress) waiting.onProgress(line);
    lastProgress = line;
  };
  let operation = started.operation;
  let failingSince: number | undefined;
  let progressDue = false;
  const giveUp = (why: string) => {
    waiting.onNote?.(`WaitOperation ${operation} ${why}; reading execution ${name} every ${READ_FLOOR_MS / 1000} s instead.`);
    operation = undefined;
  };
  for (;;) {
    const remaining = Math.ceil((waiting.deadline - Date.now()) / 1000);
    if (remaining <= 0) throw new WaitDeadline(`execution ${name} outlived its deadline`);
    if (operation) {
      const held = await hold(cloud, operation, Math.min(LONG_POLL_SECONDS, remaining), progressDue, pace, waiting, read, progress);
      progressDue = false;
      if ('finished' in held) return held.finished;
      if ('error' in held) {
        if (signal.aborted) throw held.error;
        failingSince ??= Date.now();
        const detail = explain(held.error, 'WaitOperation', operation).message;
        if (!isTransient(held.error)) giveUp(`failed (${detail})`);
        else if (Date.now() - failingSince > waiting.retry.budgetMs) giveUp(`kept failing (${detail})`);
        else waiting.onNote?.(`WaitOperation ${operation} failed (${detail}); trying it again after reading the execution.`);
      } else {
        failingSince = undefined;
        if (held.done) {
          // Completion is read at once, and from now on only the execution is read.
          pace.skipFloor();
          operation = undefined;
        } else if (held.early) {
          giveUp('answered before its timeout');
        } else {
          progressDue = true;
          continue;
        }
      }
    }
    const execution = await read();
    if (isFinished(execution)) return execution;
    progress(execution);
  }
}

/**
 * hold long-polls the run's operation once, in its turn. Meanwhile the execution is read when its
 * turn comes if progress is due, and at every turn once woken; the long poll goes on, and its answer
 * is not kept waiting by either.
 */
async function hold(
  cloud: CloudRun,
  operation: string,
  seconds: number,
  progressDue: boolean,
  pace: Pace,
  waiting: Waiting,
  read: () => Promise<Execution>,
  progress: (execution: Execution) => void,
): Promise<Held> {
  await pace.turn();
  const sent = Date.now();
  const ended = new AbortController();
  const poll: Promise<Held> = cloud.waitOperation(operation, seconds, AbortSignal.any([waiting.signal, ended.signal])).then(
    // Early: sooner than the floor, and than the timeout it was given (less a margin for the network).
    (op) => ({done: Boolean(op.done), early: !op.done && Date.now() - sent < Math.min(READ_FLOOR_MS, seconds * 1000 - 500)}),
    (error: unknown) => ({error}),
  );
  const never = new Promise<undefined>(() => undefined);
  let due = progressDue ? pace.free(ended.signal) : never;
  try {
    for (;;) {
      const woken = (
        waiting.wake?.fired
          ? Promise.resolve()
          : new Promise<void>((resolve) => waiting.wake?.addEventListener('wake', () => resolve(), {once: true, signal: ended.signal}))
      ).then(() => pace.free(ended.signal));
      const held = await abortable(Promise.race([poll, due, woken]), waiting.signal);
      if (held) return held;
      due = never;
      const execution = await read();
      if (isFinished(execution)) return {finished: execution};
      progress(execution);
    }
  } finally {
    ended.abort();
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
  return new ActionError(`The state of execution ${execution} cannot be known (${explain(err, 'GetExecution', execution).message}).`);
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
