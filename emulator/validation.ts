// Validation of a Job's spec and the server defaults it gets, as job.proto,
// execution_template.proto and task_template.proto describe them. Messages name
// the offending field by its proto path.
import {durationMs, type Duration} from './clock.ts';
import {invalidArgument} from './errors.ts';
import {JOB_ID_PATTERN} from './names.ts';
import type {Message} from './protos.ts';

// "Cloud Run API v2 does not support labels with `run.googleapis.com`,
// `cloud.googleapis.com`, `serving.knative.dev`, or `autoscaling.knative.dev`
// namespaces, and they will be rejected." (job.proto)
const RESERVED_NAMESPACES = ['run.googleapis.com', 'cloud.googleapis.com', 'serving.knative.dev', 'autoscaling.knative.dev'];
const MAX_TIMEOUT_MS = 168 * 60 * 60 * 1000;
const MAX_RETRIES_LIMIT = 10;
// task_template.proto: max_retries "Defaults to 3", timeout "Defaults to 600 seconds".
const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_TIMEOUT: Duration = {seconds: '600'};
const SPEC_FIELDS = ['labels', 'annotations', 'client', 'clientVersion', 'launchStage', 'binaryAuthorization'];
const TOKEN_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

export function validateJobId(id: unknown): string {
  if (typeof id !== 'string' || !JOB_ID_PATTERN.test(id)) {
    throw invalidArgument(
      `job_id: '${id ?? ''}' is invalid: it must start with a letter, contain only lowercase letters, digits and hyphens, not end with a hyphen, and be at most 63 characters long`,
    );
  }
  return id;
}

export function validateTimeout(value: Duration, field: string): void {
  const ms = durationMs(value);
  if (!(ms > 0) || ms > MAX_TIMEOUT_MS) throw invalidArgument(`${field}: must be greater than 0s and at most 168h`);
}

function checkNamespaces(map: Record<string, string> | undefined, field: string): void {
  for (const key of Object.keys(map ?? {})) {
    const namespace = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
    const reserved = RESERVED_NAMESPACES.find(r => namespace === r || namespace.endsWith(`.${r}`));
    if (reserved) throw invalidArgument(`${field}: key '${key}' uses the reserved namespace '${reserved}'`);
  }
}

function checkContainers(containers: Message[] | undefined, field: string): void {
  if (!containers?.length) throw invalidArgument(`${field}: at least one container is required`);
  containers.forEach((container, i) => {
    if (!container.image) throw invalidArgument(`${field}[${i}].image: is required`);
    (container.env ?? []).forEach((env: Message, j: number) => {
      if (!env.name) throw invalidArgument(`${field}[${i}].env[${j}].name: is required`);
      if (env.valueSource && !env.valueSource.secretKeyRef?.secret) {
        throw invalidArgument(`${field}[${i}].env[${j}].value_source.secret_key_ref.secret: is required`);
      }
    });
  });
}

/** An execution token must fit in an execution id: "The sum of job name and token length must be fewer than 63 characters." */
export function validateExecutionToken(jobId: string, token: string, field: string): void {
  if (!TOKEN_PATTERN.test(token)) {
    throw invalidArgument(`${field}: '${token}' must contain only lowercase letters, digits and hyphens`);
  }
  if (jobId.length + token.length >= 63) {
    throw invalidArgument(`${field}: the job name and token together must be fewer than 63 characters`);
  }
}

/**
 * The input fields of `job` with server defaults filled in. Annotations in the
 * reserved namespaces "will be rejected on new resources" only.
 */
export function jobSpec(job: Message | undefined, isNew: boolean): Message {
  if (!job) throw invalidArgument('job: is required');
  const template = job.template;
  if (!template) throw invalidArgument('job.template: is required');
  const taskTemplate = template.template;
  if (!taskTemplate) throw invalidArgument('job.template.template: is required');
  checkNamespaces(job.labels, 'job.labels');
  checkNamespaces(template.labels, 'job.template.labels');
  if (isNew) {
    checkNamespaces(job.annotations, 'job.annotations');
    checkNamespaces(template.annotations, 'job.template.annotations');
  }
  if ((template.taskCount ?? 0) < 0) throw invalidArgument('job.template.task_count: must be at least 1');
  if ((template.parallelism ?? 0) < 0) throw invalidArgument('job.template.parallelism: must not be negative');
  checkContainers(taskTemplate.containers, 'job.template.template.containers');
  const maxRetries = taskTemplate.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > MAX_RETRIES_LIMIT) {
    throw invalidArgument(`job.template.template.max_retries: must be between 0 and ${MAX_RETRIES_LIMIT}`);
  }
  if (taskTemplate.timeout) validateTimeout(taskTemplate.timeout, 'job.template.template.timeout');
  if (job.startExecutionToken && job.runExecutionToken) {
    throw invalidArgument('job: only one of start_execution_token and run_execution_token may be set');
  }
  const spec: Message = structuredClone(Object.fromEntries(SPEC_FIELDS.filter(f => job[f] !== undefined).map(f => [f, job[f]])));
  spec.template = structuredClone({
    ...template,
    // execution_template.proto: task_count "Defaults to 1"; it is not optional, so 0 means unset.
    taskCount: template.taskCount || 1,
    template: {...taskTemplate, maxRetries, timeout: taskTemplate.timeout ?? DEFAULT_TIMEOUT},
  });
  if (job.startExecutionToken) spec.startExecutionToken = job.startExecutionToken;
  if (job.runExecutionToken) spec.runExecutionToken = job.runExecutionToken;
  return spec;
}
