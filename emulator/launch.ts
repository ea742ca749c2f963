// What a task's container runs: its argv (Kubernetes semantics over the
// image's ENTRYPOINT/CMD), working directory and environment, with secret
// references resolved. Nothing is pulled; an image is only looked up.
import type {ConditionReason} from './conditions.ts';
import {DEFAULT_MEMORY_LIMIT, parseMemory} from './memory.ts';
import type {Message} from './protos.ts';
import type {ImageConfig, RuntimeOptions} from './runtime.ts';

export interface Launch {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** resources.limits.memory, in bytes. */
  memoryLimit: number;
}

export interface LaunchFailure {
  reason: ConditionReason;
  message: string;
}

export interface LaunchContext {
  project: string;
  job: string;
  execution: string;
  taskCount: number;
  options: RuntimeOptions;
}

/** The value of a secret reference: an exact version, or for 'latest' the highest numbered one. */
function resolveSecret(ref: Message, project: string, secrets: Record<string, string>): {key: string; value?: string} {
  const secret = String(ref.secret).startsWith('projects/') ? ref.secret : `projects/${project}/secrets/${ref.secret}`;
  const version = ref.version || 'latest';
  const key = `${secret}/versions/${version}`;
  if (Object.hasOwn(secrets, key)) return {key, value: secrets[key]};
  if (version !== 'latest') return {key};
  const prefix = `${secret}/versions/`;
  const newest = Object.keys(secrets)
    .filter(candidate => candidate.startsWith(prefix) && /^\d+$/.test(candidate.slice(prefix.length)))
    .sort((a, b) => Number(b.slice(prefix.length)) - Number(a.slice(prefix.length)))[0];
  return {key, value: newest === undefined ? undefined : secrets[newest]};
}

/** An image in the registry, or undefined when it is missing (never pushed, or removed since). */
export function findImage(options: RuntimeOptions, ref: string): ImageConfig | undefined {
  if (options.removedImages.has(ref)) return undefined;
  return options.images ? options.images[ref] : {};
}

/** The launch of the first container (the one the emulator runs), or why the execution cannot start. */
export function resolveLaunch(container: Message, context: LaunchContext): {launch: Launch} | {failure: LaunchFailure} {
  const {secrets, workdir} = context.options;
  const image = findImage(context.options, container.image);
  if (!image) return {failure: {reason: {reason: 'CONTAINER_MISSING'}, message: `Image '${container.image}' not found.`}};
  // command replaces the ENTRYPOINT and drops the CMD; args replace the CMD.
  const command: string[] = container.command?.length ? container.command : (image.command ?? []);
  const args: string[] = container.args?.length ? container.args : container.command?.length ? [] : (image.args ?? []);

  // Only the container's own variables: a real image does not see the host's
  // environment, but has its own PATH (and HOME), taken here from the emulator's.
  const env: Record<string, string> = {};
  for (const inherited of ['PATH', 'HOME']) {
    if (process.env[inherited] !== undefined) env[inherited] = process.env[inherited];
  }
  const variables: Message[] = container.env ?? [];
  for (const [j, variable] of variables.entries()) {
    const ref = variable.valueSource?.secretKeyRef;
    if (!ref) {
      env[variable.name] = variable.value ?? '';
      continue;
    }
    const {key, value} = resolveSecret(ref, context.project, secrets);
    if (value === undefined) {
      return {
        failure: {
          reason: {reason: 'SECRETS_ACCESS_CHECK_FAILED'},
          message: `spec.template.spec.containers[0].env[${j}].value_from.secret_key_ref.name: Secret ${key} was not found`,
        },
      };
    }
    env[variable.name] = value;
  }
  Object.assign(env, {
    CLOUD_RUN_JOB: context.job,
    CLOUD_RUN_EXECUTION: context.execution,
    CLOUD_RUN_TASK_COUNT: String(context.taskCount),
  });
  // A value that is not a quantity would be refused by a real job write; here it counts as unset.
  const memoryLimit = parseMemory(container.resources?.limits?.memory ?? '') ?? DEFAULT_MEMORY_LIMIT;
  return {launch: {argv: [...command, ...args], cwd: container.workingDir || workdir, env, memoryLimit}};
}
