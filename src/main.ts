import {setTimeout as sleep} from 'node:timers/promises';
import {abortable, Aborted} from './abort.ts';
import {CloudRun, clientOptions, type Execution} from './clients.ts';
import {errorMessage} from './errors.ts';
import {holderId} from './concurrency.ts';
import {
  cancelExecution,
  JobChanged,
  listTasks,
  runOverrides,
  startExecution,
  waitForExecution,
  WaitDeadline,
  Wake,
  type Started,
  type Waiting,
} from './execution.ts';
import {readInputs, type GetInput, type Inputs} from './inputs.ts';
import type {Io} from './io.ts';
import {dryRun} from './dry-run.ts';
import {jobName, locate, prepareJob, type Located} from './job.ts';
import {targetContainer} from './job-spec.ts';
import {consoleUrl, executionLogFilter, logsUrl} from './links.ts';
import type {LogFollower, LogSettings} from './logs.ts';
import {judge, seconds, type Outcome} from './outcome.ts';
import {backOff, type RetryPolicy} from './retry.ts';
import {maskSecrets} from './secrets.ts';
import {summaryMarkdown, type SummaryFacts} from './summary.ts';

export interface Context {
  getInput: GetInput;
  env: Record<string, string | undefined>;
  io: Io;
  version: string;
  /** Fires when the workflow is cancelled (the runner's SIGINT, then SIGTERM). */
  signal?: AbortSignal;
  /** What firing `signal` means, as the failure line starts; the action's is the default. */
  stoppedBy?: string;
}

const FAILURE_TAIL_LINES = 20;

/** How long the last read of a stopped execution may take, inside the bound of its cancel. */
const READ_BOUND_MS = 3000;

/** Time to let the platform schedule and start a task, on top of its own timeout. */
const START_SLACK_MS = 10 * 60_000;

/**
 * run is one run of the action: read the inputs, make the job hold what they ask for,
 * run it once, wait for its verdict and report it. Any failure ends in one line that says
 * why; the clients are closed whatever happens, so the process exits at once.
 */
export async function run({getInput, env, io, version, signal = new AbortController().signal, stoppedBy = 'The workflow was cancelled'}: Context): Promise<void> {
  let cloud: CloudRun | undefined;
  let logs: LogFollower | undefined;
  let started: Started | undefined;
  let finished: Execution | undefined;
  let facts: SummaryFacts | undefined;
  let inputs: Inputs | undefined;
  try {
    // Until the job is written (or, in a dry run, planned), nothing has changed.
    io.output('changed', 'false');
    inputs = readInputs(getInput, env);
    maskSecrets(inputs, io);
    const options = clientOptions(env.CLOUD_RUN_EMULATOR_HOST);
    cloud = new CloudRun(options);
    const job = await abortable(locate(inputs.job, cloud, env.GOOGLE_APPLICATION_CREDENTIALS, io), signal);
    const retry = retryPolicy(io, signal);
    // Before it starts, a run may wait for another one, within its own timeout.
    const startBy = Date.now() + (inputs.timeoutSeconds ?? 600) * 1000 + START_SLACK_MS;
    const waiting: Waiting = {retry, deadline: startBy, onProgress: (line) => io.info(line), onNote: (line) => io.debug(line), signal};

    if (inputs.dryRun) return await abortable(dryRun(cloud, job, inputs, waiting, io, version), signal);
    const claimant = {holder: holderId(env)};
    let changes = 0;
    while (!started) {
      const target = await abortable(prepareJob(cloud, job, inputs, waiting, io, version, claimant), signal);
      if (signal.aborted) throw new Aborted(String(signal.reason));
      // Not abortable: once RunJob is sent, its answer names the execution to cancel.
      started = await startExecution(cloud, target, runOverrides(inputs, targetContainer(target, inputs)?.name ?? undefined), retry, io).catch(async (err) => {
        if (!(err instanceof JobChanged)) throw err;
        io.info(`Job ${job.name} was written by another run before this one started it; looking at it again.`);
        await backOff(retry, changes++);
        return undefined;
      });
    }
    facts = announce(started, job, inputs, io);
    if (!inputs.wait) {
      io.output('status', 'started');
      io.info(`Not waiting for it (wait: false).`);
      await io.summary(summaryMarkdown({...facts, status: 'started'}));
      return;
    }
    io.remember('execution', started.execution.name as string);

    if (inputs.logs) {
      // Loaded only now, so the Logging client is not parsed before the first Cloud Run call.
      const {LogFollower} = await import('./logs.ts');
      logs = new LogFollower(options, logSettings(job, facts), io);
      logs.start(started.execution);
    }
    // The platform logs each container's end a few seconds before the execution shows it
    // completed: that line wakes the wait to read the execution, at no cost in reads.
    const wake = new Wake();
    void logs?.containersEnded.then(() => wake.fire());
    finished = await waitForExecution(cloud, started, {...waiting, deadline: waitDeadline(started.execution), wake});
    io.remember('settled', 'true');
    await logs?.finish(finished);
    const tasks = finished.succeededCount === finished.taskCount ? [] : await listTasks(cloud, finished.name as string, retry);
    const outcome = judge(finished, tasks);
    report(finished, outcome, facts, io);
    if (outcome.status !== 'succeeded') showFailureTail(logs, io);
    await io.summary(summaryMarkdown({...facts, ...outcomeFacts(finished, outcome)}));
  } catch (err) {
    io.debug((err as Error)?.stack ?? String(err));
    if (cloud && started && facts && inputs && (signal.aborted || err instanceof WaitDeadline)) {
      await stop(cloud, started, facts, inputs, err instanceof WaitDeadline ? undefined : stoppedBy, io);
    } else if (signal.aborted) {
      io.output('status', 'cancelled');
      io.fail(`${stoppedBy} before the job was started: nothing was run.`);
    } else if (facts && inputs?.wait && !finished) {
      // The run ended by itself, not by the runner's hand: its execution is not cancelled, here or in the post step.
      io.remember('settled', 'true');
      io.output('status', 'failed');
      io.fail(`${errorMessage(err)} Execution ${facts.execution} was left running. Console: ${facts.consoleUrl}`);
    } else {
      io.output('status', 'failed');
      io.fail(errorMessage(err));
    }
  } finally {
    await Promise.all([logs?.close(), cloud?.close()]);
  }
}

/**
 * stop ends a run whose execution is still going: the workflow was cancelled (stoppedBy says
 * how), or the execution outlived the run's deadline (stoppedBy unset). Either way the step
 * fails and says what became of it.
 */
async function stop(cloud: CloudRun, started: Started, facts: SummaryFacts, inputs: Inputs, stoppedBy: string | undefined, io: Io) {
  const name = started.execution.name as string;
  const id = facts.execution as string;
  const deadline = stoppedBy === undefined;
  const status = deadline ? 'timed_out' : 'cancelled';
  const stopped = deadline ? 'ran past the deadline' : stoppedBy.charAt(0).toLowerCase() + stoppedBy.slice(1);
  io.output('status', status);
  let reason: string;
  if (!deadline && !inputs.cancelOnAbort) {
    reason = `${stopped}; the execution was left running`;
    io.fail(`${stoppedBy}; execution ${id} was left running (cancel_on_abort: false). Console: ${facts.consoleUrl}`);
    executionOutputs(await readExecution(cloud, name), io);
  } else {
    // Read alongside the cancel, within its bound: a cancelled run has little time left.
    const [cancelled, last] = await Promise.all([cancelExecution(cloud, name, io), readExecution(cloud, name)]);
    io.remember('settled', String(cancelled));
    executionOutputs(last, io);
    const why = deadline
      ? `Execution ${id} of job ${inputs.job.name} ran past the run's deadline (its task timeout for every attempt, plus time to start):`
      : `${stoppedBy} while execution ${id} of job ${inputs.job.name} was running:`;
    const what = cancelled ? 'it was cancelled' : 'cancelling it did not succeed in time, so it may still be running';
    reason = cancelled
      ? `${stopped}, so the execution was cancelled`
      : `${stopped}; cancelling the execution did not succeed in time`;
    io.fail(`${why} ${what}. Logs: ${facts.logsUrl}`);
  }
  await io.summary(summaryMarkdown({...facts, status, reason}));
}

/** readExecution is the execution as it is now, or undefined when it cannot be read in time. */
async function readExecution(cloud: CloudRun, name: string): Promise<Execution | undefined> {
  try {
    return (await cloud.executions.getExecution({name}, {timeout: READ_BOUND_MS}))[0];
  } catch {
    return undefined;
  }
}

/**
 * executionOutputs sets what an execution read tells: its counts, and how long it ran, until
 * now for one still going. Every path that has read its execution sets them through here.
 */
function executionOutputs(execution: Execution | undefined, io: Io): void {
  if (!execution) return;
  const now = {seconds: Date.now() / 1000};
  const duration = seconds(execution.startTime ?? execution.createTime, execution.completionTime ?? now);
  if (duration !== undefined) io.output('duration', duration);
  io.output('succeeded_count', execution.succeededCount ?? 0);
  io.output('failed_count', execution.failedCount ?? 0);
}

function logSettings(job: Located, facts: SummaryFacts): LogSettings {
  return {
    project: job.project,
    filter: executionLogFilter(job, facts.execution as string),
    bufferWindowMs: 250,
    pollMs: 5000,
    settleMs: 3000,
    tailLines: FAILURE_TAIL_LINES,
    logsUrl: facts.logsUrl as string,
  };
}

/** showFailureTail repeats the job's last lines under the error, where the reader already is. */
function showFailureTail(logs: LogFollower | undefined, io: Io): void {
  const lines = logs?.lastLines() ?? [];
  if (lines.length === 0) return;
  io.info(`Last ${lines.length} lines of the job's output:`);
  io.untrusted(lines);
}

function retryPolicy(io: Io, signal: AbortSignal): RetryPolicy {
  return {
    budgetMs: 60_000,
    initialDelayMs: 500,
    maxDelayMs: 10_000,
    sleep: (ms, abort) => sleep(ms, undefined, {signal: abort}),
    random: Math.random,
    signal,
    onRetry: (err, delay) => io.debug(`Retrying in ${delay} ms after: ${errorMessage(err)}`),
  };
}

/** The wait ends when every attempt of every task could have used its whole timeout, and a margin. */
function waitDeadline(execution: Execution): number {
  const template = execution.template;
  const timeoutMs = Number(template?.timeout?.seconds ?? 600) * 1000;
  const attempts = (template?.maxRetries ?? 3) + 1;
  const waves = Math.ceil((execution.taskCount || 1) / (execution.parallelism || execution.taskCount || 1));
  return Date.now() + timeoutMs * attempts * waves + START_SLACK_MS;
}

/** announce prints the execution and its links the moment it exists, and sets the outputs known so far. */
function announce(started: Started, job: Located, inputs: Inputs, io: Io): SummaryFacts {
  const name = started.execution.name as string;
  const id = name.split('/').pop() as string;
  const links = {consoleUrl: consoleUrl(job, id), logsUrl: started.execution.logUri || logsUrl(job, id)};
  io.info(`Started execution ${id} of job ${job.name}.`);
  io.info(`Console: ${links.consoleUrl}`);
  io.info(`Logs: ${links.logsUrl}`);
  io.output('execution', name);
  io.output('execution_id', id);
  io.output('log_url', links.logsUrl);
  const image = inputs.image ?? started.execution.template?.containers?.[0]?.image ?? undefined;
  return {job: jobName(job), image, execution: id, status: 'running', ...links};
}

function outcomeFacts(execution: Execution, outcome: Outcome) {
  return {
    status: outcome.status,
    duration: seconds(execution.startTime ?? execution.createTime, execution.completionTime),
    exitCode: outcome.exitCode,
    reason: outcome.status === 'succeeded' ? undefined : outcome.reason,
  };
}

/** report sets the final outputs and, for a failure, says in one line what happened and where to look. */
function report(execution: Execution, outcome: Outcome, facts: SummaryFacts, io: Io): void {
  const {duration} = outcomeFacts(execution, outcome);
  io.output('status', outcome.status);
  if (outcome.exitCode !== undefined) io.output('exit_code', outcome.exitCode);
  executionOutputs(execution, io);
  if (outcome.status === 'succeeded') {
    io.info(`Execution ${facts.execution} succeeded${duration === undefined ? '' : ` in ${duration} s`}.`);
    return;
  }
  // The time it took is worth saying only once a task ran.
  const after = outcome.ran && duration !== undefined ? ` after ${duration} s` : '';
  const why = outcome.reason ? `: ${outcome.reason}` : '.';
  io.fail(`Execution ${facts.execution} of job ${facts.job.split('/').pop()} ${outcome.ended}${after}${why} Logs: ${facts.logsUrl}`);
}
