// google.cloud.run.v2.Jobs: CreateJob, GetJob, ListJobs, UpdateJob, DeleteJob, RunJob.
import {status} from '@grpc/grpc-js';
import {alreadyExists, failedPrecondition} from '../errors.ts';
import {buildExecution, createExecution, newExecutionId} from '../executions.ts';
import {checkExecutionToken, failReady, jobMessage, runTokenExecution} from '../jobs.ts';
import {doneOperation, executionOperation, pendingOperation} from '../lro.ts';
import {type JobName, jobPath, locationPath, parseJobName, parseLocation} from '../names.ts';
import {EXECUTION_TYPE, JOB_TYPE, type OperationRecord, operationMessage} from '../operations.ts';
import {paginate} from '../paging.ts';
import type {Message} from '../protos.ts';
import type {Service} from '../rpc.ts';
import type {Runtime} from '../runtime.ts';
import {isComplete, type JobRecord, resourceNotFound} from '../store.ts';
import {checkLaunchStage, jobSpec, validateJobId} from '../validation.ts';
import {actAs, checkEtag} from './checks.ts';

const DEFAULT_PAGE_SIZE = 100;

/** Stores `spec` as the job `name`, creating or fully replacing it. */
function saveJob(rt: Runtime, name: JobName, spec: Message): JobRecord {
  const existing = rt.store.jobs.get(jobPath(name));
  const job = jobMessage(rt, name, spec, existing?.job);
  const record: JobRecord = existing ?? {seq: rt.store.nextSeq(), name, job};
  record.job = job;
  rt.store.jobs.set(jobPath(name), record);
  return record;
}

/** Stores `spec` as the job `name` (creating or fully replacing it), and starts a token execution. */
export function storeJob(rt: Runtime, name: JobName, spec: Message) {
  const record = saveJob(rt, name, spec);
  return {record, ready: runTokenExecution(rt, record)};
}

/** The first image of the job that the registry does not hold, when the emulator was given one. */
function missingImage(rt: Runtime, spec: Message): string | undefined {
  const images = rt.options.images;
  if (!images) return undefined;
  const containers: Message[] = spec.template?.template?.containers ?? [];
  return containers.map(container => container.image as string).find(image => !Object.hasOwn(images, image));
}

/**
 * Create and update operations are done at once, unless a token execution must start or complete
 * first. A missing image fails the operation with NOT_FOUND, yet the write is kept (Terraform:
 * "Error waiting for Creating Job: Error code 5, message: Image '…' not found.", then the job exists).
 */
function jobOperation(rt: Runtime, name: JobName, spec: Message): OperationRecord {
  const missing = missingImage(rt, spec);
  if (missing) {
    const message = `Image '${missing}' not found.`;
    const record = saveJob(rt, name, spec);
    failReady(rt, record, message);
    const operation = rt.operations.create(record.name, JOB_TYPE, () => record.job);
    rt.operations.finish(operation, {error: {code: status.NOT_FOUND, message}});
    return operation;
  }
  const {record, ready} = storeJob(rt, name, spec);
  return ready
    ? pendingOperation(rt, record.name, JOB_TYPE, () => record.job, ready)
    : doneOperation(rt, record.name, JOB_TYPE, structuredClone(record.job));
}

function createJob(rt: Runtime, request: Message): OperationRecord {
  const location = parseLocation(request.parent, 'parent');
  const name = {...location, job: validateJobId(request.jobId)};
  if (rt.store.jobs.has(jobPath(name))) throw alreadyExists(`Resource '${name.job}' already exists.`);
  const spec = jobSpec(request.job, true);
  checkLaunchStage(spec, name.job, rt.options.launchStageRefusal);
  checkExecutionToken(rt, name, spec);
  // validate_only: every check above, then the job as it would be stored, but nothing stored or started.
  if (request.validateOnly) return doneOperation(rt, name, JOB_TYPE, jobMessage(rt, name, spec));
  return jobOperation(rt, name, spec);
}

// There is no update mask: the request's job replaces the stored one.
function updateJob(rt: Runtime, request: Message): OperationRecord {
  const name = parseJobName(request.job?.name, 'job.name');
  const existing = rt.store.jobs.get(jobPath(name));
  if (!existing && !request.allowMissing) throw resourceNotFound('JOB', name.job, name);
  if (existing) checkEtag(request.job.etag, existing.job);
  const spec = jobSpec(request.job, !existing);
  checkLaunchStage(spec, name.job, rt.options.launchStageRefusal);
  checkExecutionToken(rt, name, spec);
  if (request.validateOnly) return doneOperation(rt, name, JOB_TYPE, jobMessage(rt, name, spec, existing?.job));
  return jobOperation(rt, name, spec);
}

function deleteJob(rt: Runtime, request: Message): OperationRecord {
  const name = parseJobName(request.name, 'name');
  const record = rt.store.job(name);
  checkEtag(request.etag, record.job);
  const executions = [...rt.store.executions.values()].filter(e => jobPath(e.name) === jobPath(name));
  const running = executions.find(execution => !isComplete(execution));
  if (running) {
    throw failedPrecondition(`Job '${name.job}' cannot be deleted while its execution '${running.name.execution}' is running.`);
  }
  if (request.validateOnly) return doneOperation(rt, name, JOB_TYPE, structuredClone(record.job));
  rt.store.jobs.delete(jobPath(name));
  for (const execution of executions) rt.store.executions.delete(execution.execution.name);
  return doneOperation(rt, name, JOB_TYPE, {...structuredClone(record.job), deleteTime: rt.clock.now()});
}

function runJob(rt: Runtime, request: Message): OperationRecord {
  const name = parseJobName(request.name, 'name');
  const record = rt.store.job(name);
  checkEtag(request.etag, record.job);
  const id = newExecutionId(rt, name);
  if (request.validateOnly) {
    return doneOperation(rt, name, EXECUTION_TYPE, buildExecution(rt, record, id, request.overrides).execution);
  }
  return executionOperation(rt, createExecution(rt, record, id, request.overrides), 'run');
}

function listJobs(rt: Runtime, request: Message): Message {
  const location = parseLocation(request.parent, 'parent');
  const jobs = [...rt.store.jobs.values()].filter(record => locationPath(record.name) === locationPath(location));
  // "Results are sorted by creation time, descending."
  const page = paginate(jobs, record => [-record.seq], request, `jobs:${request.parent}`, DEFAULT_PAGE_SIZE);
  return {jobs: page.items.map(record => structuredClone(record.job)), nextPageToken: page.nextPageToken};
}

export function jobsService(rt: Runtime): Service {
  const operation = (record: OperationRecord) => operationMessage(record, rt.protos);
  return {
    name: 'google.cloud.run.v2.Jobs',
    methods: {
      CreateJob: {
        authorize: r => [{permission: 'run.jobs.create', resource: `${r.parent}/jobs/${r.jobId}`}, ...actAs(r.job)],
        handle: r => operation(createJob(rt, r)),
      },
      GetJob: {
        authorize: r => [{permission: 'run.jobs.get', resource: r.name}],
        handle: r => structuredClone(rt.store.job(parseJobName(r.name, 'name')).job),
      },
      ListJobs: {
        authorize: r => [{permission: 'run.jobs.list', resource: r.parent}],
        handle: r => listJobs(rt, r),
      },
      UpdateJob: {
        // "Caller must have both create and update permissions for this call if [allow_missing] is set to true."
        authorize: r => [
          {permission: 'run.jobs.update', resource: r.job?.name},
          ...(r.allowMissing ? [{permission: 'run.jobs.create', resource: r.job?.name}] : []),
          ...actAs(r.job),
        ],
        handle: r => operation(updateJob(rt, r)),
      },
      DeleteJob: {
        authorize: r => [{permission: 'run.jobs.delete', resource: r.name}],
        handle: r => operation(deleteJob(rt, r)),
      },
      RunJob: {
        authorize: r => [
          {permission: 'run.jobs.run', resource: r.name},
          ...(r.overrides ? [{permission: 'run.jobs.runWithOverrides', resource: r.name}] : []),
        ],
        handle: r => operation(runJob(rt, r)),
      },
    },
  };
}
