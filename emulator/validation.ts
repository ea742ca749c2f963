// Validation of a Job's spec and the server defaults it gets, as job.proto,
// execution_template.proto and task_template.proto describe them. Messages name
// the offending field by its proto path.
import {durationMs, type Duration} from './clock.ts';
import {failedPrecondition, invalidArgument, type RpcError} from './errors.ts';
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
// Task timeouts over 24 h are Preview (task-timeout and create-jobs docs).
const GA_TIMEOUT_MS = 24 * 60 * 60 * 1000;
// job.proto: "Cloud Run supports ALPHA, BETA, and GA"; a preview stage allows preview features.
const PREVIEW_STAGES = new Set(['ALPHA', 'BETA']);

/** How the server refuses a Preview feature on a job that declares no preview launch stage. */
export type LaunchStageRefusal = 'invalid-argument' | 'failed-precondition';

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

// vendor_settings.proto: "At least one of network or subnetwork must be specified";
// "Currently only single network interface is supported."
function checkNetworkInterfaces(interfaces: Message[] | undefined, field: string): void {
  if (!interfaces?.length) return;
  if (interfaces.length > 1) throw invalidArgument(`${field}: only one network interface is supported`);
  if (!interfaces[0].network && !interfaces[0].subnetwork) {
    throw invalidArgument(`${field}[0]: at least one of network or subnetwork must be specified`);
  }
}

/**
 * Preview features need a job that declares a preview launch stage. The message is the one
 * real refusals show; the feature's name in it and the status code are unverified.
 */
export function checkLaunchStage(spec: Message, job: string, refusal: LaunchStageRefusal): void {
  const timeout = spec.template.template.timeout;
  if (durationMs(timeout) <= GA_TIMEOUT_MS || PREVIEW_STAGES.has(spec.launchStage)) return;
  const error: RpcError =
    refusal === 'failed-precondition'
      ? failedPrecondition('Precondition check failed.')
      : invalidArgument(
          `The feature 'task timeout longer than 24 hours' is not supported in the declared launch stage on resource ${job}. ` +
            'The launch stage annotation should be specified at least as BETA. Please visit ' +
            'https://cloud.google.com/run/docs/troubleshooting#launch-stage-validation for in-depth troubleshooting documentation.',
        );
  throw error;
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
  checkNetworkInterfaces(taskTemplate.vpcAccess?.networkInterfaces, 'job.template.template.vpc_access.network_interfaces');
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
