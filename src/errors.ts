import {Status} from 'google-gax';
import {InputError} from './parse.ts';

/** A failure already phrased for the person reading the workflow log. */
export class ActionError extends Error {
  override name = 'ActionError';
}

/** errorMessage turns anything thrown into one line of text. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** rpcCode is the gRPC status of a failed call, or undefined for anything else. */
export function rpcCode(err: unknown): number | undefined {
  const code = (err as {code?: unknown} | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Roles that grant each permission the action can need, for the advice on PERMISSION_DENIED. */
const ROLE_FOR_PERMISSION: Record<string, string> = {
  'run.jobs.get': 'roles/run.viewer',
  'run.jobs.run': 'roles/run.invoker',
  'run.jobs.runWithOverrides': 'roles/run.developer',
  'run.jobs.create': 'roles/run.developer',
  'run.jobs.update': 'roles/run.developer',
  'run.executions.get': 'roles/run.viewer',
  'run.executions.list': 'roles/run.viewer',
  'run.executions.cancel': 'roles/run.developer',
  'run.tasks.get': 'roles/run.viewer',
  'run.tasks.list': 'roles/run.viewer',
  'run.operations.get': 'roles/run.viewer',
  'iam.serviceaccounts.actas': 'roles/iam.serviceAccountUser on the job\'s service account',
  'logging.logentries.list': 'roles/logging.viewer',
};

/** What each call needs when the server does not say, keyed by the call's name. */
const PERMISSION_FOR_CALL: Record<string, string> = {
  GetJob: 'run.jobs.get',
  CreateJob: 'run.jobs.create',
  UpdateJob: 'run.jobs.update',
  RunJob: 'run.jobs.run',
  GetExecution: 'run.executions.get',
  ListExecutions: 'run.executions.list',
  CancelExecution: 'run.executions.cancel',
  ListTasks: 'run.tasks.list',
  WaitOperation: 'run.operations.get',
};

const CREDENTIALS_ADVICE =
  'No Google Cloud credentials were found. Add a google-github-actions/auth step before this one ' +
  '(with "permissions: id-token: write" on the job), or set GOOGLE_APPLICATION_CREDENTIALS.';

/**
 * explain turns a failed call into a message a person can act on: what was being done,
 * what the server said and, for the common causes, what to change.
 */
export function explain(err: unknown, call: string, resource: string): Error {
  if (err instanceof ActionError || err instanceof InputError) return err;
  const message = errorMessage(err);
  if (/Could not load the default credentials/i.test(message)) return new ActionError(CREDENTIALS_ADVICE);
  const details = ((err as {details?: string}).details || message).replace(/^\d+ [A-Z_]+: /, '').replace(/\.$/, '');
  const said = `${call} ${resource} failed: ${details}`;
  switch (rpcCode(err)) {
    case Status.PERMISSION_DENIED: {
      const permission = /Permission '([^']+)'/.exec(details)?.[1] ?? PERMISSION_FOR_CALL[call] ?? 'unknown';
      const role = ROLE_FOR_PERMISSION[permission.toLowerCase()] ?? 'roles/run.developer';
      return new ActionError(
        `${said}. The workflow's identity lacks the permission ${permission}: grant it ${role}.`,
      );
    }
    case Status.UNAUTHENTICATED:
      return new ActionError(`${said}. The credentials were refused: check the google-github-actions/auth step.`);
    case Status.NOT_FOUND:
      return new ActionError(`${said}. Check project_id, region and job.`);
    case Status.RESOURCE_EXHAUSTED:
      return new ActionError(`${said}. A Cloud Run quota is exhausted; try again later or raise the quota.`);
    case Status.UNAVAILABLE:
    case Status.DEADLINE_EXCEEDED:
      return new ActionError(`${said}. Cloud Run could not be reached.`);
    default:
      return new ActionError(said);
  }
}
