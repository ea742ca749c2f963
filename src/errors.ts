import {Status} from 'google-gax';
import {InputError} from './parse.ts';

/** A failure already phrased for the person reading the workflow log. */
export class ActionError extends Error {
  override name = 'ActionError';
}

/**
 * A long-running operation that ended in error: its google.rpc.Status, not the status of any
 * call. Its code is kept apart from `code`, so that a NOT_FOUND inside a job write (a missing
 * image) cannot be read as the call's own NOT_FOUND (the job was deleted).
 */
export class OperationFailed extends Error {
  override name = 'OperationFailed';
  readonly operationCode: number;

  constructor(status: {code?: number | null; message?: string | null}) {
    super(status.message || 'the operation failed');
    this.operationCode = status.code ?? Status.UNKNOWN;
  }
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

/** grpc-js's words when the credentials could not produce a token (google-auth-library's error follows). */
const TOKEN_FAILED = /Getting metadata from plugin failed/;

const IMAGE_NOT_FOUND = /^Image '[^']+' not found/;

/** What google-gax decodes from a google.rpc.ErrorInfo in a call's status details. */
interface ErrorInfo {
  reason?: string;
  errorInfoMetadata?: Record<string, string>;
}

/** deniedPermission is the permission a PERMISSION_DENIED names in its ErrorInfo, if it names one. */
export const deniedPermission = (err: unknown): string | undefined => (err as ErrorInfo | null)?.errorInfoMetadata?.permission;

/** explainOperation says what to change when a job write's operation failed. */
function explainOperation(err: OperationFailed, call: string, resource: string): ActionError {
  const said = `${call} ${resource} failed: ${err.message.replace(/\.$/, '')}.`;
  if (err.operationCode === Status.NOT_FOUND && IMAGE_NOT_FOUND.test(err.message)) {
    return new ActionError(
      `${said} Push the image before this step, with the same reference, and give the job's Cloud Run service agent ` +
        'read access to its repository (roles/artifactregistry.reader). The job now names this image; nothing was run.',
    );
  }
  return new ActionError(`${said} Nothing was run.`);
}

/** explainInfo reads the ErrorInfo Google APIs attach to a refusal, which says more than the message. */
function explainInfo(said: string, {reason, errorInfoMetadata: meta = {}}: ErrorInfo): ActionError | undefined {
  switch (reason) {
    case 'SERVICE_DISABLED': {
      const api = meta.service || 'run.googleapis.com';
      const project = meta.consumer?.replace(/^projects\//, '');
      const link = meta.activationUrl || `https://console.developers.google.com/apis/api/${api}/overview${project ? `?project=${project}` : ''}`;
      return new ActionError(
        `${said}. The API ${api} is not enabled in ${meta.consumer || 'the project'}: enable it (${link}), wait a few minutes, and run again.`,
      );
    }
    case 'SECURITY_POLICY_VIOLATED': {
      const id = meta.uid ? ` (unique ID ${meta.uid} in the audit logs)` : '';
      return new ActionError(
        `${said}. A VPC Service Controls perimeter refused the call${id}: ` +
          `ask its administrators for an ingress rule that lets the workflow's identity reach ${meta.service || 'Cloud Run'}, or run from inside the perimeter.`,
      );
    }
    case 'RATE_LIMIT_EXCEEDED':
    case 'RESOURCE_QUOTA_EXCEEDED': {
      const quota = [meta.quota_limit, meta.quota_metric].filter(Boolean).join(' of ') || 'of Cloud Run';
      const where = meta.consumer ? ` in ${meta.consumer}` : '';
      return new ActionError(
        `${said}. The quota ${quota} is exhausted${where}: ` +
          'wait a minute before running again (other runs in the project use it too), or raise the quota.',
      );
    }
    default:
      return undefined;
  }
}

/**
 * explain turns a failed call into a message a person can act on: what was being done,
 * what the server said and, for the common causes, what to change.
 */
export function explain(err: unknown, call: string, resource: string): Error {
  if (err instanceof ActionError || err instanceof InputError) return err;
  if (err instanceof OperationFailed) return explainOperation(err, call, resource);
  const message = errorMessage(err);
  if (/Could not load the default credentials/i.test(message)) return new ActionError(CREDENTIALS_ADVICE);
  const details = ((err as {details?: string}).details || message).replace(/^\d+ [A-Z_]+: /, '').replace(/\.$/, '');
  const said = `${call} ${resource} failed: ${details}`;
  if (TOKEN_FAILED.test(details)) {
    return new ActionError(
      `${said}. The credentials could not be exchanged for a token: check the google-github-actions/auth step ` +
        '(workload_identity_provider, service_account) and that the job has "permissions: id-token: write".',
    );
  }
  const info = explainInfo(said, err as ErrorInfo);
  if (info) return info;
  switch (rpcCode(err)) {
    case Status.PERMISSION_DENIED: {
      const permission =
        deniedPermission(err) ?? /Permission '([^']+)'/.exec(details)?.[1] ?? PERMISSION_FOR_CALL[call] ?? 'unknown';
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
