// Creating an Execution of a job: a snapshot of the job's template with the
// run's overrides applied, one Task per task_count, and the job's execution
// bookkeeping (execution_count, latest_created_execution).
import {condition} from './conditions.ts';
import {alreadyExists} from './errors.ts';
import {executionSuffix, newEtag, uuid} from './ids.ts';
import {type ExecutionName, type JobName, executionPath, taskPath} from './names.ts';
import {applyOverrides} from './overrides.ts';
import type {Message} from './protos.ts';
import {PRINCIPAL, type Runtime} from './runtime.ts';
import {ExecutionRun} from './scheduler.ts';
import type {ExecutionRecord, JobRecord, TaskRecord} from './store.ts';

/** The Cloud Console link to an execution's (or one task's) logs. */
export function logUri(name: ExecutionName, taskIndex?: number): string {
  const filter = [
    'resource.type="cloud_run_job"',
    `resource.labels.job_name="${name.job}"`,
    `resource.labels.location="${name.location}"`,
    `labels."run.googleapis.com/execution_name"="${name.execution}"`,
    ...(taskIndex === undefined ? [] : [`labels."run.googleapis.com/task_index"="${taskIndex}"`]),
  ].join('\n');
  return `https://console.cloud.google.com/logs/viewer?project=${name.project}&advancedFilter=${encodeURIComponent(filter)}`;
}

/** An unused execution id for a run of `job`: `<job>-<5 random characters>`. */
export function newExecutionId(rt: Runtime, job: JobName): string {
  for (;;) {
    const id = `${job.job}-${executionSuffix()}`;
    if (!rt.store.executions.has(executionPath({...job, execution: id}))) return id;
  }
}

/** The Execution and Tasks a run would create, without storing them (also serves validate_only). */
export function buildExecution(rt: Runtime, job: JobRecord, executionId: string, overrides?: Message) {
  const template = applyOverrides(structuredClone(job.job.template), overrides);
  const taskTemplate: Message = template.template;
  const taskCount: number = template.taskCount || 1;
  const now = rt.clock.now();
  const name: ExecutionName = {...job.name, execution: executionId};
  const pending = (type: string) => condition({type, state: 'CONDITION_PENDING'}, now);
  const common = {
    generation: '1',
    labels: {...template.labels},
    annotations: {...template.annotations},
    createTime: now,
    updateTime: now,
    reconciling: true,
    observedGeneration: '1',
    etag: newEtag(),
  };
  const execution: Message = {
    ...common,
    name: executionPath(name),
    uid: uuid(),
    creator: PRINCIPAL,
    launchStage: job.job.launchStage,
    job: job.name.job,
    // execution_template.proto: parallelism 0 means "the maximum possible value".
    parallelism: template.parallelism > 0 ? Math.min(template.parallelism, taskCount) : taskCount,
    taskCount,
    template: taskTemplate,
    conditions: [pending('ResourcesAvailable'), pending('Started'), pending('Completed')],
    runningCount: 0,
    succeededCount: 0,
    failedCount: 0,
    cancelledCount: 0,
    retriedCount: 0,
    logUri: logUri(name),
  };
  const tasks: TaskRecord[] = Array.from({length: taskCount}, (_, index) => ({
    phase: 'pending',
    task: structuredClone({
      ...common,
      name: taskPath({...name, task: `${executionId}-task${index}`}),
      uid: uuid(),
      job: job.name.job,
      execution: executionId,
      containers: taskTemplate.containers,
      volumes: taskTemplate.volumes,
      maxRetries: taskTemplate.maxRetries,
      timeout: taskTemplate.timeout,
      serviceAccount: taskTemplate.serviceAccount,
      executionEnvironment: taskTemplate.executionEnvironment,
      encryptionKey: taskTemplate.encryptionKey,
      vpcAccess: taskTemplate.vpcAccess,
      nodeSelector: taskTemplate.nodeSelector,
      conditions: [pending('Started'), pending('Completed')],
      index,
      retried: 0,
      logUri: logUri(name, index),
    }),
  }));
  return {name, execution, tasks};
}

/** Stores a new execution of `job` and starts running it. */
export function createExecution(rt: Runtime, job: JobRecord, executionId: string, overrides?: Message): ExecutionRecord {
  const {name, execution, tasks} = buildExecution(rt, job, executionId, overrides);
  if (rt.store.executions.has(execution.name)) throw alreadyExists(`Resource '${executionId}' already exists.`);
  const record = {seq: rt.store.nextSeq(), name, execution, tasks, deleted: false} as ExecutionRecord;
  rt.store.executions.set(execution.name, record);
  job.job.executionCount = (job.job.executionCount ?? 0) + 1;
  job.job.latestCreatedExecution = {
    name: execution.name,
    createTime: execution.createTime,
    completionStatus: 'EXECUTION_PENDING',
  };
  record.run = new ExecutionRun(rt, record);
  return record;
}
