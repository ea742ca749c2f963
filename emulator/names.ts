// Resource names of the Cloud Run Admin API v2 and google.longrunning, parsed
// strictly: a malformed name is INVALID_ARGUMENT, naming the field.
import {invalidArgument} from './errors.ts';

export interface LocationName {
  project: string;
  location: string;
}
export interface JobName extends LocationName {
  job: string;
}
export interface ExecutionName extends JobName {
  execution: string;
}
export interface TaskName extends ExecutionName {
  task: string;
}
export interface OperationName extends LocationName {
  operation: string;
}

// A project id (6-30 characters, lowercase letters, digits and hyphens, starting
// with a letter) or a project number; a region such as us-central1.
const PROJECT = '([a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]+)';
const LOCATION = '([a-z]+(?:-[a-z]+)+[0-9]+)';
const JOB_ID = '[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?';
const CHILD_ID = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';

/** Job ids: lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen, at most 63 characters. */
export const JOB_ID_PATTERN = new RegExp(`^${JOB_ID}$`);

function matcher(pattern: string, shape: string) {
  const regex = new RegExp(`^projects/${PROJECT}/locations/${LOCATION}${pattern}$`);
  return (value: unknown, field: string): string[] => {
    const match = typeof value === 'string' ? regex.exec(value) : null;
    if (!match) throw invalidArgument(`Invalid ${field} '${value ?? ''}': expected ${shape}`);
    return match.slice(1);
  };
}

const LOCATION_SHAPE = 'projects/{project}/locations/{location}';
const JOB_SHAPE = `${LOCATION_SHAPE}/jobs/{job}`;
const EXECUTION_SHAPE = `${JOB_SHAPE}/executions/{execution}`;

const matchLocation = matcher('', LOCATION_SHAPE);
const matchJob = matcher(`/jobs/(${JOB_ID})`, JOB_SHAPE);
const matchJobOrAny = matcher(`/jobs/(${JOB_ID}|-)`, `${JOB_SHAPE} (or '-' for every job)`);
const matchExecution = matcher(`/jobs/(${JOB_ID})/executions/(${CHILD_ID})`, EXECUTION_SHAPE);
const matchExecutionOrAny = matcher(
  `/jobs/(${JOB_ID}|-)/executions/(${CHILD_ID}|-)`,
  `${EXECUTION_SHAPE} (or '-' for every job or execution)`,
);
const matchTask = matcher(`/jobs/(${JOB_ID})/executions/(${CHILD_ID})/tasks/(${CHILD_ID})`, `${EXECUTION_SHAPE}/tasks/{task}`);
const matchOperation = matcher('/operations/([A-Za-z0-9-]+)', `${LOCATION_SHAPE}/operations/{operation}`);

export function parseLocation(value: unknown, field: string): LocationName {
  const [project, location] = matchLocation(value, field);
  return {project: project!, location: location!};
}

/** A job name; with `allowAny`, '-' stands for every job (ListExecutions). */
export function parseJobName(value: unknown, field: string, allowAny = false): JobName {
  const [project, location, job] = (allowAny ? matchJobOrAny : matchJob)(value, field);
  return {project: project!, location: location!, job: job!};
}

/** An execution name; with `allowAny`, '-' stands for every job or execution (ListTasks). */
export function parseExecutionName(value: unknown, field: string, allowAny = false): ExecutionName {
  const [project, location, job, execution] = (allowAny ? matchExecutionOrAny : matchExecution)(value, field);
  return {project: project!, location: location!, job: job!, execution: execution!};
}

export function parseTaskName(value: unknown, field: string): TaskName {
  const [project, location, job, execution, task] = matchTask(value, field);
  return {project: project!, location: location!, job: job!, execution: execution!, task: task!};
}

export function parseOperationName(value: unknown, field: string): OperationName {
  const [project, location, operation] = matchOperation(value, field);
  return {project: project!, location: location!, operation: operation!};
}

export const locationPath = (n: LocationName) => `projects/${n.project}/locations/${n.location}`;
export const jobPath = (n: JobName) => `${locationPath(n)}/jobs/${n.job}`;
export const executionPath = (n: ExecutionName) => `${jobPath(n)}/executions/${n.execution}`;
export const taskPath = (n: TaskName) => `${executionPath(n)}/tasks/${n.task}`;
export const operationPath = (n: OperationName) => `${locationPath(n)}/operations/${n.operation}`;
