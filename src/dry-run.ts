import type {CloudRun, Job} from './clients.ts';
import {ActionError, errorMessage, explain} from './errors.ts';
import {awaitJobOperation, type Waiting} from './execution.ts';
import type {Inputs} from './inputs.ts';
import type {Io} from './io.ts';
import {jobName, locationName, readJob, refuseUnsafe, type Located} from './job.ts';
import {planJob, targetContainer} from './job-spec.ts';
import {compactPlan, jobChanges, planMarkdown, type Change} from './plan.ts';

/**
 * dryRun shows what a run would do to the job and lets Cloud Run validate it: the job this run
 * would write is sent with validate_only, so the server checks it as it would a real write, and
 * nothing is written, claimed or run.
 */
export async function dryRun(cloud: CloudRun, job: Located, inputs: Inputs, waiting: Waiting, io: Io, version: string): Promise<void> {
  const name = jobName(job);
  const existing = await readJob(cloud, name, waiting.retry);
  if (!existing && (!inputs.ownsSpec || inputs.image === undefined)) {
    throw new ActionError(
      `Dry run: job ${job.name} was not found in project ${job.project}, region ${job.region}, and without "image" a run would not create it.`,
    );
  }
  if (existing) targetContainer(existing, inputs);
  if (!inputs.ownsSpec) {
    refuseUnsafe(existing as Job, job, inputs);
    io.output('changed', 'false');
    io.info(`Dry run: job ${job.name} would run as it is; nothing in it would change. Nothing was run.`);
    await io.summary(dryRunMarkdown(name, 'would run as it is; nothing would change', []));
    return;
  }

  const plan = planJob(existing, name, inputs, version);
  const changes = jobChanges(existing, plan.job, inputs);
  io.output('changed', String(plan.changed));
  if (!plan.changed) {
    io.info(`Dry run: job ${job.name} is up to date; nothing would change. Nothing was run.`);
    await io.summary(dryRunMarkdown(name, 'is up to date; nothing would change', []));
    return;
  }
  const what = existing ? 'would be updated' : 'does not exist; it would be created';
  io.info(`Dry run: job ${job.name} ${what}: ${compactPlan(changes)}`);

  const call = existing ? 'UpdateJob' : 'CreateJob';
  try {
    const [op] = existing
      ? await cloud.jobs.updateJob({job: {...plan.job, etag: existing.etag}, validateOnly: true})
      : await cloud.jobs.createJob({parent: locationName(job), jobId: job.name, job: {...plan.job, name: ''}, validateOnly: true});
    await awaitJobOperation(cloud, op.latestResponse, waiting);
  } catch (err) {
    const refusal = explain(err, `${call} (validate_only)`, name);
    await io.summary(dryRunMarkdown(name, `${what}, but Cloud Run refused the change: ${errorMessage(refusal)}`, changes));
    throw refusal;
  }
  io.info(`Cloud Run validated the change (${call} with validate_only): nothing was written, claimed or run.`);
  await io.summary(dryRunMarkdown(name, `${what}; Cloud Run validated the change`, changes));
}

function dryRunMarkdown(job: string, verdict: string, changes: Change[]): string {
  const line = `Job \`${job}\` ${verdict.replaceAll('\n', ' ')}. Nothing was written or run.`;
  return ['### Cloud Run job: dry run', '', line, '', planMarkdown(changes)].join('\n');
}
