// Preconditions shared by the Cloud Run services.
import {aborted} from '../errors.ts';
import type {PermissionCheck} from '../iam.ts';
import type {Message} from '../protos.ts';

/** "A system-generated fingerprint ... May be used to detect modification conflict during updates." */
export function checkEtag(given: string | undefined, resource: Message): void {
  if (given && given !== resource.etag) {
    throw aborted(`The etag '${given}' does not match the current etag of resource '${resource.name}'.`);
  }
}

/** Naming a service account in a job's template requires iam.serviceAccounts.actAs on it. */
export function actAs(job: Message | undefined): PermissionCheck[] {
  const serviceAccount = job?.template?.template?.serviceAccount;
  return serviceAccount ? [{actAs: serviceAccount}] : [];
}
