import {readFileSync} from 'node:fs';
import {InputError} from './parse.ts';

/**
 * keyProject is the job's project when no input or variable names it: the `project_id` of a
 * service account key, and nothing else. Workload Identity Federation credentials (the
 * external_account file google-github-actions/auth writes) name no project; google-auth-library
 * would then look up the project that owns the identity pool, seldom the job's, so they fail
 * here, before they are even loaded. Undefined when no key file names a project.
 */
export function keyProject(credentialsFile: string | undefined): string | undefined {
  let credentials: {type?: unknown; project_id?: unknown} = {};
  try {
    if (credentialsFile) credentials = JSON.parse(readFileSync(credentialsFile, 'utf8'));
  } catch {
    // Loading the credentials says what is wrong with a file that cannot be read.
  }
  if (credentials.type === 'external_account') {
    throw new InputError(
      'Input "project_id" is required with Workload Identity Federation credentials, which do not name the job\'s project: ' +
        "set project_id (the auth step's project_id input also sets GOOGLE_CLOUD_PROJECT).",
    );
  }
  const project = credentials.type === 'service_account' ? credentials.project_id : undefined;
  return typeof project === 'string' && project ? project : undefined;
}

/**
 * noProject is the error when neither the inputs nor the credentials name the project. Nothing
 * else is asked: gcloud's configuration or the metadata server would only guess at it.
 */
export const noProject = () =>
  new InputError('Input "project_id" is required: no input or GOOGLE_CLOUD_PROJECT variable names the job\'s project, and the credentials do not either.');
