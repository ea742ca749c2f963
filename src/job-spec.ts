import type {protos} from '@google-cloud/run';
import type {Job} from './clients.ts';
import {runMessage} from './gax.ts';
import type {Inputs} from './inputs.ts';
import {InputError} from './parse.ts';

type Container = protos.google.cloud.run.v2.IContainer;
type EnvVar = protos.google.cloud.run.v2.IEnvVar;

/** The name this action gives itself in Job.client, as gcloud and the console do. */
export const CLIENT_NAME = 'cloud-run-migrate';

const CLOUDSQL_VOLUME = 'cloudsql';
const CLOUDSQL_MOUNT = '/cloudsql';
/** Task timeouts above this are Preview: Cloud Run refuses them unless the job declares BETA or ALPHA. */
const GA_TIMEOUT_SECONDS = 24 * 3600;
/** Launch stages that already allow Beta features: a job declaring one keeps it. */
const PREVIEW_STAGES = new Set(['BETA', 'ALPHA', 'EARLY_ACCESS', 'PRELAUNCH']);

export interface Plan {
  /** The whole job to send: UpdateJob has no field mask, so it replaces the job with this. */
  job: Job;
  /** False when the job already holds exactly what the inputs ask for: no update is needed. */
  changed: boolean;
}

/**
 * planJob merges the fields the action owns into the job as it is, keeping everything else
 * (volumes, VPC settings, env vars and labels that someone else configured), or builds the
 * job from scratch when it does not exist yet.
 */
export function planJob(existing: Job | undefined, name: string, inputs: Inputs, version: string): Plan {
  const job: Job = existing
    ? structuredClone(existing)
    : {name, template: {template: {containers: [inputs.container ? {name: inputs.container} : {}]}}};
  const execution = (job.template ??= {});
  // One task, run once, unless asked otherwise: a migration is not sharded, and a half-applied
  // one must not be retried by the platform (the server's default is 3 retries).
  execution.taskCount = inputs.taskCount ?? 1;
  if (execution.taskCount === 1) execution.parallelism = 1;
  const task = (execution.template ??= {});
  task.maxRetries = inputs.maxRetries ?? 0;
  if (inputs.timeoutSeconds !== undefined) task.timeout = {seconds: inputs.timeoutSeconds, nanos: 0};
  if (inputs.serviceAccount !== undefined) task.serviceAccount = inputs.serviceAccount;
  if (inputs.vpcConnector !== undefined || inputs.vpcEgress !== undefined || inputs.networkInterface !== undefined) {
    // A connector and Direct VPC egress are two ways to the same network: choosing one drops the other.
    const {connector, networkInterfaces, ...rest} = task.vpcAccess ?? {};
    const network = inputs.networkInterface;
    task.vpcAccess = {
      ...rest,
      ...(inputs.vpcConnector
        ? {connector: connectorName(inputs.vpcConnector, name)}
        : !network && connector && {connector}),
      ...(network
        ? {networkInterfaces: [{...network}]}
        : !inputs.vpcConnector && networkInterfaces?.length && {networkInterfaces}),
      ...(inputs.vpcEgress && {egress: inputs.vpcEgress}),
    };
  }
  task.containers = task.containers?.length ? task.containers : [{}];
  const container = targetContainer(job, inputs) as Container;
  if (inputs.image !== undefined) container.image = inputs.image;
  if (inputs.command !== undefined) container.command = inputs.command;
  if (inputs.args !== undefined) container.args = inputs.args;
  container.env = mergeEnv(container.env ?? [], [
    ...inputs.env.map(({name, value}) => ({name, value})),
    ...inputs.secrets.map(({name, secret, version}) => ({name, valueSource: {secretKeyRef: {secret, version}}})),
  ]);
  if (inputs.memory !== undefined || inputs.cpu !== undefined) {
    container.resources = {
      ...container.resources,
      limits: {
        ...container.resources?.limits,
        ...(inputs.memory && {memory: inputs.memory}),
        ...(inputs.cpu && {cpu: inputs.cpu}),
      },
    };
  }
  if (inputs.cloudsqlInstances.length > 0) mountCloudSql(task, container, inputs.cloudsqlInstances);
  if (Object.keys(inputs.labels).length > 0) job.labels = {...job.labels, ...inputs.labels};
  if (Number(task.timeout?.seconds ?? 0) > GA_TIMEOUT_SECONDS && !PREVIEW_STAGES.has(String(job.launchStage))) {
    job.launchStage = 'BETA';
  }

  const changed = !existing || !sameSpec(existing, job);
  job.client = CLIENT_NAME;
  job.clientVersion = version;
  return {job, changed};
}

/**
 * targetContainer is the container the inputs apply to: the one "container" names, or the
 * first. A name the job does not have is a bad input, found before anything is written.
 */
export function targetContainer(job: Job, inputs: Pick<Inputs, 'container'>): Container | undefined {
  const containers = job.template?.template?.containers ?? [];
  if (inputs.container === undefined) return containers[0];
  const found = containers.find((c) => c.name === inputs.container);
  if (found) return found;
  const names = containers.map((c) => (c.name ? `"${c.name}"` : 'one without a name'));
  throw new InputError(
    `Input "container" is "${inputs.container}", but job ${String(job.name).split('/').pop()} has no container of that name ` +
      `(it has ${names.join(', ') || 'none'})`,
  );
}

/** mergeEnv sets each given variable in place, by name, and keeps the others. */
function mergeEnv(current: EnvVar[], given: EnvVar[]): EnvVar[] {
  const merged = current.map((v) => given.find((g) => g.name === v.name) ?? v);
  return [...merged, ...given.filter((g) => !current.some((v) => v.name === g.name))];
}

function mountCloudSql(
  task: protos.google.cloud.run.v2.ITaskTemplate,
  container: Container,
  instances: string[],
) {
  const volumes = (task.volumes ??= []);
  const volume = volumes.find((v) => v.name === CLOUDSQL_VOLUME);
  if (volume) volume.cloudSqlInstance = {instances};
  else volumes.push({name: CLOUDSQL_VOLUME, cloudSqlInstance: {instances}});
  const mounts = (container.volumeMounts ??= []);
  if (!mounts.some((m) => m.name === CLOUDSQL_VOLUME)) mounts.push({name: CLOUDSQL_VOLUME, mountPath: CLOUDSQL_MOUNT});
}

function connectorName(connector: string, jobName: string): string {
  if (connector.startsWith('projects/')) return connector;
  const location = jobName.replace(/\/jobs\/[^/]+$/, '');
  return `${location}/connectors/${connector}`;
}

/**
 * sameSpec compares what the action can change, in one canonical form: the API returns
 * int64 as strings and fills defaults, while the plan holds numbers and only what was set.
 */
function sameSpec(a: Job, b: Job): boolean {
  const type = runMessage('Job');
  const canonical = (job: Job) => {
    // An unset launch stage is GA, which the server fills in.
    const launchStage = job.launchStage && job.launchStage !== 'LAUNCH_STAGE_UNSPECIFIED' ? job.launchStage : 'GA';
    const message = type.toObject(type.fromObject({labels: job.labels, template: job.template, launchStage}), {
      longs: String,
      enums: String,
    });
    return JSON.stringify(sortKeys(message));
  };
  return canonical(a) === canonical(b);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
