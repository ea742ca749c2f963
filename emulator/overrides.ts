// RunJobRequest.Overrides applied to a snapshot of the job's ExecutionTemplate,
// following the field comments in job.proto.
import {invalidArgument} from './errors.ts';
import type {Message} from './protos.ts';
import {validateTimeout} from './validation.ts';

function overrideContainer(containers: Message[], override: Message, field: string): void {
  const target = override.name
    ? containers.find(container => container.name === override.name)
    : containers.length === 1
      ? containers[0]
      : undefined;
  if (!target) {
    throw invalidArgument(
      override.name
        ? `${field}.name: the job has no container named '${override.name}'`
        : `${field}.name: is required when the job has more than one container`,
    );
  }
  const args: string[] = override.args ?? [];
  if (override.clearArgs && args.length) throw invalidArgument(`${field}: args and clear_args cannot both be set`);
  // args "Will replace existing args for override"; clear_args "clear out existing args list".
  if (override.clearArgs) target.args = [];
  else if (args.length) target.args = [...args];
  // env "Will be merged with existing env for override": same name replaces, new names append.
  const env: Message[] = (target.env ??= []);
  (override.env ?? []).forEach((variable: Message, i: number) => {
    if (!variable.name) throw invalidArgument(`${field}.env[${i}].name: is required`);
    const index = env.findIndex(existing => existing.name === variable.name);
    if (index === -1) env.push(structuredClone(variable));
    else env[index] = structuredClone(variable);
  });
}

/** Returns `template` (an ExecutionTemplate the caller owns) with `overrides` applied. */
export function applyOverrides(template: Message, overrides: Message | undefined): Message {
  if (!overrides) return template;
  (overrides.containerOverrides ?? []).forEach((override: Message, i: number) =>
    overrideContainer(template.template.containers, override, `overrides.container_overrides[${i}]`),
  );
  if ((overrides.taskCount ?? 0) < 0) throw invalidArgument('overrides.task_count: must be at least 1');
  if (overrides.taskCount) template.taskCount = overrides.taskCount;
  if (overrides.timeout) {
    validateTimeout(overrides.timeout, 'overrides.timeout');
    template.template.timeout = overrides.timeout;
  }
  return template;
}
