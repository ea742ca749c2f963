import {
  InputError,
  parseBoolean,
  parseDuration,
  parseInteger,
  parseList,
  parsePairs,
  parseWords,
} from './parse.ts';

/** What a run does when another run of the job is busy with it: see the `concurrency` input. */
export type Concurrency = 'wait' | 'fail' | 'cancel' | 'allow';

export interface JobRef {
  /** Unknown until credentials are read when neither the inputs nor the environment name it. */
  project?: string;
  region: string;
  name: string;
}

export interface EnvVar {
  name: string;
  value: string;
}

export interface SecretEnv {
  name: string;
  /** `NAME` in the job's project, or `projects/P/secrets/NAME`. */
  secret: string;
  version: string;
}

/** Direct VPC egress: the one network interface the job's tasks get. */
export interface NetworkInterface {
  network?: string;
  subnetwork?: string;
  tags: string[];
}

export interface Inputs {
  job: JobRef;
  /** The container that image, command, args, env_vars, secrets, memory and cpu apply to; unset means the first. */
  container?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env: EnvVar[];
  secrets: SecretEnv[];
  serviceAccount?: string;
  cloudsqlInstances: string[];
  vpcConnector?: string;
  vpcEgress?: 'ALL_TRAFFIC' | 'PRIVATE_RANGES_ONLY';
  networkInterface?: NetworkInterface;
  memory?: string;
  cpu?: string;
  labels: Record<string, string>;
  timeoutSeconds?: number;
  /** Unset means 0 for a job the action manages, and "the job must not retry" for one it runs as it is. */
  maxRetries?: number;
  /** Likewise: 1 unless given, for a migration runs once. */
  taskCount?: number;
  wait: boolean;
  /** On SIGINT/SIGTERM while the execution runs: cancel it (true) or leave it running. */
  cancelOnAbort: boolean;
  /** What to do when another execution of the job is running: see Concurrency. */
  concurrency: Concurrency;
  /** Whether to follow the job's log entries into the workflow log. */
  logs: boolean;
  /** Validate and show what the run would change, and change and run nothing. */
  dryRun: boolean;
  /**
   * True when an input sets something only the job's spec can hold (image, command,
   * secrets, settings): the job is then created or updated before it runs. Otherwise it
   * runs as it is, with args, env_vars and timeout as overrides of that one execution.
   */
  ownsSpec: boolean;
}

/** Reads one input by name, trimmed, '' when unset: @actions/core's getInput has this shape. */
export type GetInput = (name: string) => string;

/** The variables that google-github-actions/auth and gcloud set, in the order they are trusted. */
const PROJECT_VARIABLES = ['GOOGLE_CLOUD_PROJECT', 'CLOUDSDK_CORE_PROJECT', 'GCLOUD_PROJECT', 'GCP_PROJECT'];

const JOB_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const FULL_JOB_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/jobs\/([^/]+)$/;
const PROJECT_ID = /^(?:[a-z0-9.-]+:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+(?:-[a-z]+)+\d+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const SECRET_NAME = /^(?:projects\/[^/]+\/secrets\/)?[A-Za-z0-9_-]{1,255}$/;
const SECRET_VERSION = /^(?:latest|\d+|[A-Za-z][A-Za-z0-9_-]{0,62})$/;
const SERVICE_ACCOUNT = /^[^@\s]+@[^@\s]+\.[a-z]+$/;
const CLOUDSQL_INSTANCE = /^[^:\s]+:[a-z]+(?:-[a-z]+)+\d+:[a-z][-a-z0-9]*$/;
const CONNECTOR = /^(?:projects\/[^/]+\/locations\/[^/]+\/connectors\/)?[a-z][-a-z0-9]{0,24}$/;
const RESOURCE_ID = '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?';
const NETWORK = new RegExp(`^(?:projects/[^/]+/global/networks/)?${RESOURCE_ID}$`);
const SUBNETWORK = new RegExp(`^(?:projects/[^/]+/regions/[^/]+/subnetworks/)?${RESOURCE_ID}$`);
const NETWORK_TAG = new RegExp(`^${RESOURCE_ID}$`);
const CONTAINER_NAME = new RegExp(`^${RESOURCE_ID}$`);
const MEMORY = /^\d+(?:\.\d+)?(?:Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const CPU = /^(?:\d+(?:\.\d+)?|\d+m)$/;
const LABEL_KEY = /^[a-z][-_a-z0-9]{0,62}$/;
const LABEL_VALUE = /^[-_a-z0-9]{0,63}$/;
const RESERVED_NAMESPACES = ['run.googleapis.com', 'cloud.googleapis.com', 'serving.knative.dev', 'autoscaling.knative.dev'];
const PLATFORM_ENV = ['CLOUD_RUN_JOB', 'CLOUD_RUN_EXECUTION', 'CLOUD_RUN_TASK_INDEX', 'CLOUD_RUN_TASK_ATTEMPT', 'CLOUD_RUN_TASK_COUNT'];
const MAX_ENV_VALUE_BYTES = 32768;
const MAX_TIMEOUT_SECONDS = 168 * 3600;

const optional = (raw: string): string | undefined => (raw === '' ? undefined : raw);

function check(input: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value)) throw new InputError(`Input "${input}" must be ${expected}, got "${value}"`);
  return value;
}

/**
 * readInputs parses and validates every input once. Whatever comes after trusts the result;
 * a bad input throws an InputError before anything is called.
 */
export function readInputs(getInput: GetInput, env: Record<string, string | undefined>): Inputs {
  const job = readJob(getInput, env);
  const image = optional(getInput('image'));
  if (image !== undefined && /\s/.test(image)) {
    throw new InputError(`Input "image" must be an image reference such as us-docker.pkg.dev/P/repo/app:tag, got "${image}"`);
  }
  const command = optional(getInput('command'));
  const args = optional(getInput('args'));
  const serviceAccount = optional(getInput('service_account'));
  const vpcConnector = optional(getInput('vpc_connector'));
  const vpcEgress = optional(getInput('vpc_egress'));
  const memory = optional(getInput('memory'));
  const cpu = optional(getInput('cpu'));
  const timeout = optional(getInput('timeout'));
  const maxRetries = optional(getInput('max_retries'));
  const taskCount = optional(getInput('task_count'));
  const wait = optional(getInput('wait'));
  const cancelOnAbort = optional(getInput('cancel_on_abort'));
  const concurrency = optional(getInput('concurrency'));
  const logs = optional(getInput('logs'));
  const container = optional(getInput('container'));
  const dryRun = optional(getInput('dry_run'));

  const inputs = {
    job,
    container:
      container && check('container', container, CONTAINER_NAME, 'a container name of lowercase letters, digits and dashes'),
    image,
    command: command === undefined ? undefined : nonEmpty('command', parseWords('command', command)),
    args: args === undefined ? undefined : parseWords('args', args),
    env: readEnv(getInput('env_vars')),
    secrets: readSecrets(getInput('secrets')),
    serviceAccount:
      serviceAccount && check('service_account', serviceAccount, SERVICE_ACCOUNT, 'a service account email'),
    cloudsqlInstances: parseList(getInput('cloudsql_instances')).map((instance) =>
      check('cloudsql_instances', instance, CLOUDSQL_INSTANCE, 'a list of PROJECT:REGION:INSTANCE'),
    ),
    vpcConnector:
      vpcConnector &&
      check('vpc_connector', vpcConnector, CONNECTOR, 'a connector name or projects/P/locations/R/connectors/NAME'),
    vpcEgress: vpcEgress === undefined ? undefined : readEgress(vpcEgress),
    networkInterface: readNetworkInterface(getInput, vpcConnector),
    memory: memory && check('memory', memory, MEMORY, 'a size such as 512Mi or 2Gi'),
    cpu: cpu && check('cpu', cpu, CPU, 'a number of CPUs such as 1 or 2, or millicpus such as 1000m'),
    labels: readLabels(getInput('labels')),
    timeoutSeconds: timeout === undefined ? undefined : readTimeout(timeout),
    maxRetries: maxRetries === undefined ? undefined : parseInteger('max_retries', maxRetries, 0, 10),
    taskCount: taskCount === undefined ? undefined : parseInteger('task_count', taskCount, 1, 10000),
    wait: wait === undefined ? true : parseBoolean('wait', wait),
    cancelOnAbort: cancelOnAbort === undefined ? true : parseBoolean('cancel_on_abort', cancelOnAbort),
    concurrency: concurrency === undefined ? 'wait' : readConcurrency(concurrency),
    logs: logs === undefined ? true : parseBoolean('logs', logs),
    dryRun: dryRun === undefined ? false : parseBoolean('dry_run', dryRun),
  };
  const clash = inputs.secrets.find((s) => inputs.env.some((e) => e.name === s.name));
  if (clash) {
    throw new InputError(`Input "secrets" sets "${clash.name}", which "env_vars" sets too: give each variable once`);
  }
  const ownsSpec =
    image !== undefined ||
    command !== undefined ||
    inputs.secrets.length > 0 ||
    serviceAccount !== undefined ||
    inputs.cloudsqlInstances.length > 0 ||
    vpcConnector !== undefined ||
    vpcEgress !== undefined ||
    inputs.networkInterface !== undefined ||
    memory !== undefined ||
    cpu !== undefined ||
    Object.keys(inputs.labels).length > 0;
  return {...inputs, ownsSpec};
}

function readJob(getInput: GetInput, env: Record<string, string | undefined>): JobRef {
  const raw = getInput('job');
  if (raw === '') throw new InputError('Input "job" is required: a job name such as "migrate", or projects/P/locations/R/jobs/J');
  const projectInput = optional(getInput('project_id'));
  const regionInput = optional(getInput('region'));
  if (projectInput !== undefined) check('project_id', projectInput, PROJECT_ID, 'a Google Cloud project ID');
  if (regionInput !== undefined) check('region', regionInput, REGION, 'a Cloud Run region such as us-central1');

  const full = FULL_JOB_NAME.exec(raw);
  if (full) {
    const [, project, region, name] = full;
    check('job', project, PROJECT_ID, 'projects/P/locations/R/jobs/J with a valid project ID');
    check('job', region, REGION, 'projects/P/locations/R/jobs/J with a valid region');
    check('job', name, JOB_NAME, 'projects/P/locations/R/jobs/J with a valid job name');
    for (const [input, given, fromName] of [
      ['project_id', projectInput, project],
      ['region', regionInput, region],
    ]) {
      if (given !== undefined && given !== fromName) {
        throw new InputError(`Input "${input}" is "${given}" but "job" names "${fromName}": give one or make them agree`);
      }
    }
    return {project, region, name};
  }
  const expected =
    'a job name of lowercase letters, digits and dashes, starting with a letter, not ending with a dash, ' +
    'at most 63 characters (or projects/P/locations/R/jobs/J)';
  check('job', raw, JOB_NAME, expected);
  const fromEnv = PROJECT_VARIABLES.map((name) => env[name]).find((value) => value);
  return {project: projectInput ?? fromEnv, region: regionInput ?? 'us-central1', name: raw};
}

function nonEmpty(input: string, words: string[]): string[] {
  if (words.length === 0) throw new InputError(`Input "${input}" is set but names no program`);
  return words;
}

function readEnvName(input: string, name: string): string {
  check(input, name, ENV_NAME, 'KEY=VALUE with KEY made of letters, digits and _');
  if (PLATFORM_ENV.includes(name)) {
    throw new InputError(`Input "${input}" sets "${name}", which Cloud Run sets for every task`);
  }
  return name;
}

function readEnv(raw: string): EnvVar[] {
  return parsePairs('env_vars', raw).map(([name, value]) => {
    readEnvName('env_vars', name);
    if (Buffer.byteLength(value) > MAX_ENV_VALUE_BYTES) {
      throw new InputError(`Input "env_vars" has a value for "${name}" over ${MAX_ENV_VALUE_BYTES} bytes, the Cloud Run limit`);
    }
    return {name, value};
  });
}

function readSecrets(raw: string): SecretEnv[] {
  return parsePairs('secrets', raw).map(([name, reference]) => {
    readEnvName('secrets', name);
    const [secret, version = 'latest', ...rest] = reference.split(':');
    const expected = 'KEY=SECRET[:VERSION], a Secret Manager reference such as DB_PASSWORD=db-password:latest';
    if (rest.length > 0 || !SECRET_NAME.test(secret) || !SECRET_VERSION.test(version)) {
      throw new InputError(`Input "secrets" must be ${expected}; the entry for "${name}" is not`);
    }
    return {name, secret, version};
  });
}

function readConcurrency(raw: string): Concurrency {
  if (raw === 'wait' || raw === 'fail' || raw === 'cancel' || raw === 'allow') return raw;
  throw new InputError(`Input "concurrency" must be wait, fail, cancel or allow, got "${raw}"`);
}

function readEgress(raw: string): 'ALL_TRAFFIC' | 'PRIVATE_RANGES_ONLY' {
  const value = raw.toUpperCase().replaceAll('-', '_');
  if (value === 'ALL_TRAFFIC' || value === 'PRIVATE_RANGES_ONLY') return value;
  throw new InputError(`Input "vpc_egress" must be all-traffic or private-ranges-only, got "${raw}"`);
}

function readNetworkInterface(getInput: GetInput, connector: string | undefined): NetworkInterface | undefined {
  const network = optional(getInput('network'));
  const subnetwork = optional(getInput('subnetwork'));
  const tags = parseList(getInput('network_tags')).map((tag) =>
    check('network_tags', tag, NETWORK_TAG, 'network tags of lowercase letters, digits and dashes, starting with a letter'),
  );
  if (network === undefined && subnetwork === undefined) {
    if (tags.length > 0) throw new InputError('Input "network_tags" needs "network" or "subnetwork": tags apply to Direct VPC egress');
    return undefined;
  }
  if (connector !== undefined) {
    const given = network !== undefined ? 'network' : 'subnetwork';
    throw new InputError(
      `Input "vpc_connector" cannot be combined with "${given}": choose a Serverless VPC Access connector or Direct VPC egress, not both`,
    );
  }
  return {
    ...(network !== undefined && {
      network: check('network', network, NETWORK, 'a VPC network name or projects/P/global/networks/NAME'),
    }),
    ...(subnetwork !== undefined && {
      subnetwork: check('subnetwork', subnetwork, SUBNETWORK, 'a subnetwork name or projects/P/regions/R/subnetworks/NAME'),
    }),
    tags,
  };
}

function readLabels(raw: string): Record<string, string> {
  return Object.fromEntries(
    parsePairs('labels', raw).map(([key, value]) => {
      const reserved = RESERVED_NAMESPACES.find((ns) => key.startsWith(`${ns}/`) || key === ns);
      if (reserved) throw new InputError(`Input "labels" uses the key "${key}" in the ${reserved} namespace, which Cloud Run reserves`);
      check('labels', key, LABEL_KEY, 'KEY=VALUE with lowercase keys of letters, digits, _ and -, starting with a letter');
      check('labels', value, LABEL_VALUE, 'KEY=VALUE with lowercase values of letters, digits, _ and -, at most 63 characters');
      return [key, value];
    }),
  );
}

function readTimeout(raw: string): number {
  const seconds = parseDuration('timeout', raw);
  if (seconds <= 0 || seconds > MAX_TIMEOUT_SECONDS) {
    throw new InputError(`Input "timeout" must be more than 0 and at most 168h (Cloud Run's limit), got "${raw}"`);
  }
  return seconds;
}
