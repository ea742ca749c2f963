import type {protos} from '@google-cloud/run';
import type {Job} from './clients.ts';
import type {Inputs} from './inputs.ts';
import {targetContainer} from './job-spec.ts';
import {cleanLine} from './sanitize.ts';
import {looksLikeCredential} from './secrets.ts';

type Container = protos.google.cloud.run.v2.IContainer;
type EnvVar = protos.google.cloud.run.v2.IEnvVar;

/** One field the write changes; undefined means unset, or absent from the job. */
export interface Change {
  field: string;
  before?: string;
  after?: string;
}

/** Plan values longer than this are cut: a plan line is read at a glance. */
const MAX_VALUE_CHARS = 120;

const words = (list: string[] | null | undefined) => (list?.length ? JSON.stringify(list) : undefined);
const text = (value: unknown) => (value === undefined || value === null || value === '' ? undefined : String(value));

/** The fields a run can change, as a person reads them, from the job as it stands. */
function fields(job: Job | undefined, container: Container | undefined): Array<[string, string | undefined]> {
  const execution = job?.template;
  const task = execution?.template;
  const network = task?.vpcAccess?.networkInterfaces?.[0];
  const cloudsql = task?.volumes?.find((v) => v.name === 'cloudsql')?.cloudSqlInstance?.instances;
  return [
    ['image', text(container?.image)],
    ['command', words(container?.command)],
    ['args', words(container?.args)],
    ['memory', text(container?.resources?.limits?.memory)],
    ['cpu', text(container?.resources?.limits?.cpu)],
    ['service account', text(task?.serviceAccount)],
    ['timeout', task?.timeout?.seconds == null ? undefined : `${task.timeout.seconds}s`],
    ['max retries', text(task?.maxRetries)],
    ['task count', text(execution?.taskCount)],
    // With one task, any parallelism runs it alone: not worth a line.
    ['parallelism', (execution?.taskCount ?? 1) > 1 ? text(execution?.parallelism || undefined) : undefined],
    ['VPC connector', text(task?.vpcAccess?.connector)],
    ['VPC egress', text(task?.vpcAccess?.egress === 'VPC_EGRESS_UNSPECIFIED' ? undefined : task?.vpcAccess?.egress)],
    ['network', text(network?.network)],
    ['subnetwork', text(network?.subnetwork)],
    ['network tags', network?.tags?.length ? network.tags.join(',') : undefined],
    ['Cloud SQL instances', cloudsql?.length ? cloudsql.join(',') : undefined],
    ['launch stage', text(job?.launchStage === 'LAUNCH_STAGE_UNSPECIFIED' ? undefined : job?.launchStage)],
  ];
}

/** How a variable is shown: a secret by its reference, a value that looks like a credential masked. */
function envValue(variable: EnvVar): string {
  const ref = variable.valueSource?.secretKeyRef;
  if (ref) return `secret ${ref.secret}:${ref.version || 'latest'}`;
  const value = variable.value ?? '';
  return looksLikeCredential(variable.name ?? '', value) ? '***' : value;
}

function sameVariable(a: EnvVar | undefined, b: EnvVar | undefined): boolean {
  const ref = (v: EnvVar) => v.valueSource?.secretKeyRef;
  if (!a || !b) return a === b;
  return (a.value ?? '') === (b.value ?? '') && ref(a)?.secret === ref(b)?.secret && (ref(a)?.version || '') === (ref(b)?.version || '');
}

function cut(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const clean = cleanLine(value);
  return clean.length <= MAX_VALUE_CHARS ? clean : `${clean.slice(0, MAX_VALUE_CHARS)}…`;
}

/**
 * jobChanges lists, field by field, what writing `after` does to `before` (undefined for a job
 * that does not exist yet): the container the inputs apply to, the task's settings, the labels.
 */
export function jobChanges(before: Job | undefined, after: Job, inputs: Pick<Inputs, 'container'>): Change[] {
  const was = before && targetContainer(before, inputs);
  const now = targetContainer(after, inputs);
  const old = new Map(fields(before, was));
  const changes: Change[] = [];
  for (const [field, value] of fields(after, now)) {
    if (old.get(field) !== value) changes.push({field, before: old.get(field), after: value});
  }
  const oldEnv = new Map((was?.env ?? []).map((v) => [v.name, v]));
  const newEnv = new Map((now?.env ?? []).map((v) => [v.name, v]));
  for (const name of new Set([...oldEnv.keys(), ...newEnv.keys()])) {
    const [from, to] = [oldEnv.get(name), newEnv.get(name)];
    if (sameVariable(from, to)) continue;
    const [shown, showing] = [from && envValue(from), to && envValue(to)];
    // Two masked values look alike: say that the value changed all the same.
    changes.push({field: `env ${name}`, before: shown, after: shown === showing ? `${showing} (a new value)` : showing});
  }
  const oldLabels = before?.labels ?? {};
  const newLabels = after.labels ?? {};
  for (const key of new Set([...Object.keys(oldLabels), ...Object.keys(newLabels)])) {
    if (oldLabels[key] !== newLabels[key]) changes.push({field: `label ${key}`, before: oldLabels[key], after: newLabels[key]});
  }
  return changes.map(({field, before, after}) => ({field, before: cut(before), after: cut(after)}));
}

/** compactPlan is the plan on one line: "image app:1 → app:2; env MIGRATE_TARGET added". */
export function compactPlan(changes: Change[]): string {
  if (changes.length === 0) return 'settings this plan does not list';
  return changes
    .map(({field, before, after}) => {
      if (before === undefined) return field.startsWith('env ') || field.startsWith('label ') ? `${field} added` : `${field} ${after}`;
      if (after === undefined) return `${field} removed`;
      return `${field} ${before} → ${after}`;
    })
    .join('; ');
}

const cell = (value: string | undefined) =>
  value === undefined
    ? '–'
    : `${value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('|', '\\|')}`;

/** planMarkdown is the plan as a table for the step summary. */
export function planMarkdown(changes: Change[]): string {
  if (changes.length === 0) return '';
  const rows = changes.map(({field, before, after}) => `| ${cell(field)} | ${cell(before)} | ${cell(after)} |`);
  return ['| Field | Before | After |', '|---|---|---|', ...rows, ''].join('\n');
}
