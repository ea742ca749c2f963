import {randomUUID} from 'node:crypto';
import {setTimeout as sleep} from 'node:timers/promises';
import type {CloudRun, Execution, Job} from './clients.ts';
import {ActionError, explain} from './errors.ts';
import {cancelExecution, type Waiting} from './execution.ts';
import type {Concurrency} from './inputs.ts';
import type {Io} from './io.ts';
import {isFinished} from './outcome.ts';
import {withRetries} from './retry.ts';
import {millis} from './time.ts';

/**
 * The annotation by which a run claims the job before it runs it. Cloud Run has no lock of
 * its own; writing this with the job's etag makes the claim atomic, so of several runs that
 * find the job free at once, exactly one wins and the others see it.
 */
const CLAIM_ANNOTATION = 'cloud-run-migrate/claim';
/** A claim whose run started no execution within this time is abandoned (its runner died). */
const CLAIM_TTL_MS = 2 * 60_000;
/** Between reads of what the run is waiting for: soon at first, then no more than 6 a minute. */
const FIRST_POLL_MS = 1000;
const MAX_POLL_MS = 10_000;

interface Claim {
  holder: string;
  at: number;
}

/** This run as it claims jobs. A claim once refused (no right to write the job) is not asked again. */
export interface Claimant {
  holder: string;
  refused?: boolean;
}

/** holderId names this run in a claim: the workflow run and job when there is one. */
export function holderId(env: Record<string, string | undefined>): string {
  const run = [env.GITHUB_REPOSITORY, env.GITHUB_RUN_ID && `run ${env.GITHUB_RUN_ID}.${env.GITHUB_RUN_ATTEMPT ?? 1}`, env.GITHUB_JOB]
    .filter(Boolean)
    .join(' ');
  return `${run || 'a run'} (${randomUUID().slice(0, 8)})`;
}

const claimOf = (job: Job | undefined): Claim | undefined => {
  const raw = job?.annotations?.[CLAIM_ANNOTATION];
  if (!raw) return undefined;
  try {
    const claim = JSON.parse(raw) as Claim;
    return typeof claim.holder === 'string' && typeof claim.at === 'number' ? claim : undefined;
  } catch {
    return undefined;
  }
};

export const withClaim = (job: Job, holder: string): Job => ({
  ...job,
  annotations: {...job.annotations, [CLAIM_ANNOTATION]: JSON.stringify({holder, at: Date.now()})},
});

/** What keeps this run from starting now: executions still running, or another run's fresh claim. */
export type Busy = {executions: Execution[]} | {claim: Claim};

/**
 * findBusy looks for what would make this run a second migration at once. Executions are
 * listed newest first and read back as far as any could still be running.
 */
export async function findBusy(cloud: CloudRun, job: Job, holder: string, waiting: Waiting): Promise<Busy | undefined> {
  const template = job.template?.template;
  const attempts = (template?.maxRetries ?? 3) + 1;
  const horizon = Date.now() - Number(template?.timeout?.seconds ?? 600) * 1000 * attempts - 60 * 60_000;
  const running: Execution[] = [];
  let pageToken = '';
  do {
    const [page, , response] = await withRetries(
      () => cloud.executions.listExecutions({parent: job.name, pageSize: 50, pageToken}, {autoPaginate: false}),
      waiting.retry,
    ).catch((err) => {
      throw explain(err, 'ListExecutions', job.name ?? '');
    });
    running.push(...page.filter((e) => !e.completionTime && !e.deleteTime));
    const oldest = page.at(-1);
    pageToken = oldest && millis(oldest.createTime) > horizon ? (response?.nextPageToken ?? '') : '';
  } while (pageToken);
  if (running.length > 0) return {executions: running};

  const claim = claimOf(job);
  if (!claim || claim.holder === holder) return undefined;
  // Spent once an execution was created after it. Clocks differ between machines: a wrong
  // answer here errs towards waiting, and the etags keep two runs from both starting.
  const spent = millis(job.latestCreatedExecution?.createTime) > claim.at;
  const abandoned = Date.now() - claim.at > CLAIM_TTL_MS;
  return spent || abandoned ? undefined : {claim};
}

/**
 * handleBusy does what `concurrency` says with what keeps this run from starting: wait for it,
 * cancel it, or fail naming it. It returns once the run may look again.
 */
export async function handleBusy(busy: Busy, mode: Concurrency, cloud: CloudRun, jobName: string, waiting: Waiting, io: Io): Promise<void> {
  const short = (name: string) => name.split('/').pop();
  if ('claim' in busy) {
    if (mode === 'fail') {
      throw new ActionError(`Job ${short(jobName)} is about to be run by ${busy.claim.holder} (concurrency: fail). Nothing was run.`);
    }
    io.info(`Job ${short(jobName)} is about to be run by ${busy.claim.holder}; waiting for that run (concurrency: ${mode}).`);
    return pause(waiting);
  }
  const names = busy.executions.map((e) => short(e.name as string)).join(', ');
  if (mode === 'fail') {
    throw new ActionError(
      `Execution ${names} of job ${short(jobName)} is still running, and concurrency: fail refuses to start another. Nothing was run.`,
    );
  }
  if (mode === 'cancel') {
    io.info(`Cancelling execution ${names} of job ${short(jobName)}, still running, before starting this one (concurrency: cancel).`);
    for (const execution of busy.executions) {
      if (!(await cancelExecution(cloud, execution.name as string, io))) {
        throw new ActionError(`Execution ${short(execution.name as string)} could not be cancelled; nothing was run.`);
      }
    }
  } else {
    io.info(`Execution ${names} of job ${short(jobName)} is still running; waiting for it to finish before starting this one (concurrency: wait).`);
  }
  for (const execution of busy.executions) await waitUntilFinished(cloud, execution.name as string, waiting);
}

async function waitUntilFinished(cloud: CloudRun, name: string, waiting: Waiting): Promise<void> {
  // Another migration may run for an hour: read it less often the longer it runs.
  for (let delay = FIRST_POLL_MS; ; delay = Math.min(delay * 1.5, MAX_POLL_MS)) {
    const [execution] = await withRetries(() => cloud.executions.getExecution({name}), waiting.retry).catch((err) => {
      throw explain(err, 'GetExecution', name);
    });
    if (isFinished(execution)) return;
    await pause(waiting, delay);
  }
}

async function pause(waiting: Waiting, ms = FIRST_POLL_MS): Promise<void> {
  if (Date.now() > waiting.deadline) {
    throw new ActionError('Another run of the job did not finish in time for this one to start; nothing was run.');
  }
  await sleep(ms, undefined, {signal: waiting.signal});
}
