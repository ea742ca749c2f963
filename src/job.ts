import {Status} from 'google-gax';
import type {CloudRun, Job} from './clients.ts';
import {keyProject, noProject} from './credentials.ts';
import {ActionError, deniedPermission, errorMessage, explain, OperationFailed, rpcCode} from './errors.ts';
import {awaitJobOperation, type Waiting} from './execution.ts';
import type {Inputs, JobRef} from './inputs.ts';
import type {Io} from './io.ts';
import {findBusy, handleBusy, withClaim, type Claimant} from './concurrency.ts';
import {planJob, targetContainer} from './job-spec.ts';
import {compactPlan, jobChanges} from './plan.ts';
import {backOff, withRetries, type RetryPolicy} from './retry.ts';

export type Located = Required<JobRef>;

/** Codes after which a write may have been made although its answer never came. */
const LOST_ANSWER = new Set<number>([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.UNKNOWN, Status.INTERNAL]);
/** A write whose answer was lost is made again once: a second loss is not a passing fault. */
const LOST_ANSWER_RETRIES = 1;
/**
 * Writes refused one after the other as conflicting (another writer, a job still reconciling) before
 * the run gives up: runs that contend for a job lose at most once or twice before one holds it.
 */
const MAX_CONFLICTS = 5;

export const locationName = (job: Located) => `projects/${job.project}/locations/${job.region}`;
export const jobName = (job: Located) => `${locationName(job)}/jobs/${job.name}`;

/** How long the first connection to Cloud Run may take before the run gives up on reaching it. */
const REACH_MS = 15_000;

/**
 * locate completes the job's address with the project of a service account key when nothing
 * else named one, and makes sure Cloud Run can be reached before the first call: a wrong address
 * or a network that cannot reach it fails at once, rather than after a minute of retries.
 */
export async function locate(job: JobRef, cloud: CloudRun, credentialsFile: string | undefined, io: Io): Promise<Located> {
  if (!job.project && cloud.emulated) {
    throw new ActionError('Input "project_id" is required with CLOUD_RUN_EMULATOR_HOST: there are no credentials to take it from.');
  }
  const fromKey = job.project ? undefined : keyProject(credentialsFile);
  try {
    await cloud.authenticate();
  } catch (err) {
    throw explain(err, 'Loading', 'the credentials');
  }
  const project = job.project ?? fromKey;
  if (!project) throw noProject();
  if (fromKey) io.info(`Using project ${fromKey}, from the service account key's project_id.`);
  await cloud.reachable(REACH_MS).catch((err) => {
    const why = `Cloud Run could not be reached at ${cloud.address} within ${REACH_MS / 1000} s (${errorMessage(err)})`;
    throw new ActionError(
      cloud.emulated
        ? `${why}: is the emulator listening there (CLOUD_RUN_EMULATOR_HOST)?`
        : `${why}: check that the runner's network (proxy, firewall) lets it reach Cloud Run.`,
    );
  });
  return {...job, project};
}

/** readJob is the job as it stands, or undefined when there is none. */
export async function readJob(cloud: CloudRun, name: string, retry: RetryPolicy): Promise<Job | undefined> {
  return withRetries(async () => (await cloud.jobs.getJob({name}))[0], retry).catch((err) => {
    if (rpcCode(err) === Status.NOT_FOUND) return undefined;
    throw explain(err, 'GetJob', name);
  });
}

/**
 * prepareJob makes the job hold what the inputs ask for, claims it for this run unless
 * concurrency is allow, and returns it as it now stands, its etag pinning what will run.
 * When another run is busy with the job, it waits, cancels or fails as concurrency says;
 * when another run wrote the job first, it looks again. A write that Cloud Run took but could
 * not carry out (its operation failed, e.g. for a missing image) ends the run.
 */
export async function prepareJob(
  cloud: CloudRun,
  job: Located,
  inputs: Inputs,
  waiting: Waiting,
  io: Io,
  version: string,
  claimant: Claimant,
): Promise<Job> {
  const name = jobName(job);
  const guard = inputs.concurrency !== 'allow';
  let lostAnswers = 0;
  let conflicts = 0;
  /** Looks again at a job that changed under this write, after a pause that grows each time. */
  const conflicted = async (err: unknown, call: string, why: string) => {
    if (conflicts >= MAX_CONFLICTS) {
      throw new ActionError(
        `${call} ${name} was refused ${conflicts + 1} times in a row as the job kept changing (${explain(err, call, name).message}). ` +
          'Another writer, or a job that does not settle, keeps it moving. Nothing was run.',
      );
    }
    io.info(`Job ${job.name} ${why}; looking at it again.`);
    await backOff(waiting.retry, conflicts++);
  };
  for (;;) {
    if (Date.now() > waiting.deadline) {
      throw new ActionError(`Job ${job.name} could not be claimed for this run in time: other runs kept it busy. Nothing was run.`);
    }
    const existing = await readJob(cloud, name, waiting.retry);
    if (!existing && !inputs.ownsSpec) {
      throw new ActionError(
        `Job ${job.name} was not found in project ${job.project}, region ${job.region}. ` +
          'Set "image" to create it, or check project_id and region.',
      );
    }
    if (!existing && inputs.image === undefined) {
      throw new ActionError(`Job ${job.name} does not exist in project ${job.project}, region ${job.region}: set "image" to create it.`);
    }
    if (existing && !inputs.ownsSpec) refuseUnsafe(existing, job, inputs);
    if (existing) targetContainer(existing, inputs);
    const busy = existing && guard ? await findBusy(cloud, existing, claimant.holder, waiting) : undefined;
    if (busy) {
      await handleBusy(busy, inputs.concurrency, cloud, name, waiting, io);
      conflicts = 0;
      continue;
    }

    const claim = guard && !claimant.refused;
    const plan = inputs.ownsSpec ? planJob(existing, name, inputs, version) : {job: existing as Job, changed: false};
    if (inputs.ownsSpec && !plan.changed) io.info(`Job ${job.name} is up to date.`);
    if (!plan.changed && !claim) {
      io.output('changed', 'false');
      return existing as Job;
    }
    if (plan.changed) io.info(existing ? `Updating job ${job.name}...` : `Creating job ${job.name}...`);
    if (plan.changed && existing) io.info(`Changes: ${compactPlan(jobChanges(existing, plan.job, inputs))}`);
    const call = existing ? 'UpdateJob' : 'CreateJob';
    try {
      const written = await writeJob(cloud, claim ? withClaim(plan.job, claimant.holder) : plan.job, job, existing, waiting);
      io.output('changed', String(plan.changed));
      return written;
    } catch (err) {
      if (err instanceof OperationFailed) {
        // Cloud Run keeps a write whose operation failed (a missing image): the job did change.
        io.output('changed', String(plan.changed));
        throw explain(err, call, name);
      }
      if (rpcCode(err) === Status.ABORTED || rpcCode(err) === Status.ALREADY_EXISTS) {
        await conflicted(err, call, 'was written by another run meanwhile');
        continue;
      }
      if (existing && rpcCode(err) === Status.NOT_FOUND) {
        await conflicted(err, call, 'was deleted meanwhile');
        continue;
      }
      // The write may or may not have been made: reading the job again tells, and writing
      // the same spec and claim a second time changes nothing more.
      if (LOST_ANSWER.has(rpcCode(err) ?? -1)) {
        if (++lostAnswers > LOST_ANSWER_RETRIES) throw explain(err, call, name);
        io.info(`The answer to ${call} was lost; looking at job ${job.name} again.`);
        continue;
      }
      if (!plan.changed && rpcCode(err) === Status.PERMISSION_DENIED) {
        // Running a job as it is needs no right to write it: without one, the check for
        // running executions above is all the guard there is, and the claim is not tried again.
        claimant.refused = true;
        io.output('changed', 'false');
        const denied = deniedPermission(err);
        io.info(
          `Job ${job.name} cannot be claimed for this run${denied ? ` (${denied} was denied)` : ''}: writing its claim needs ` +
            "run.jobs.update and Service Account User (iam.serviceAccounts.actAs) on the job's runtime service account. " +
            'Only running executions were checked.',
        );
        return existing as Job;
      }
      throw explain(err, call, name);
    }
  }
}

/**
 * writeJob creates the job when there was none, and replaces it with UpdateJob otherwise. Either
 * way a concurrent write makes this one fail rather than be overwritten by it: a create fails
 * (ALREADY_EXISTS) once another run has created the job, and an update carries the etag (ABORTED).
 * An update with allow_missing cannot do the first: with no etag to give, it would overwrite the
 * job, and the claim, that another run created meanwhile, and both would run. So an update of a
 * job deleted meanwhile fails (NOT_FOUND), and the run looks again.
 * A job read back may carry the token of the execution its last writer asked for: sent back, it
 * would ask for one more (job.proto, start_execution_token), so it is never sent.
 */
async function writeJob(cloud: CloudRun, desired: Job, job: Located, existing: Job | undefined, waiting: Waiting): Promise<Job> {
  const {startExecutionToken: _start, runExecutionToken: _run, ...spec} = desired;
  const [op] = existing
    ? await cloud.jobs.updateJob({job: {...spec, etag: existing.etag}})
    : await cloud.jobs.createJob({parent: locationName(job), jobId: job.name, job: {...spec, name: ''}});
  const updated = await awaitJobOperation(cloud, op.latestResponse, waiting);
  // The operation's result is not always filled in: read the job back for its new etag.
  return updated?.etag ? updated : (await cloud.jobs.getJob({name: desired.name}))[0];
}

/**
 * refuseUnsafe stops a run of a job the action does not manage when the job would retry a
 * failed migration or run it several times at once, unless the inputs accept exactly that.
 */
export function refuseUnsafe(existing: Job, job: Located, inputs: Inputs): void {
  // max_retries sits in a oneof: unset means the server's default of 3.
  const retries = existing.template?.template?.maxRetries ?? 3;
  const tasks = existing.template?.taskCount || 1;
  const manage = 'to accept that, or set "image" to let this action manage the job (one task, no retries). Nothing was run.';
  if (retries !== (inputs.maxRetries ?? 0)) {
    throw new ActionError(
      `Job ${job.name} retries a failed task up to ${retries} times, so a half-applied migration could run again: ` +
        `set max_retries: ${retries} ${manage}`,
    );
  }
  if (tasks !== (inputs.taskCount ?? 1)) {
    throw new ActionError(
      `Job ${job.name} runs ${tasks} tasks, so the migration would run ${tasks} times: ` +
        `set task_count: ${tasks} ${manage}`,
    );
  }
}
