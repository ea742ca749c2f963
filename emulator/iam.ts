// Permission checks: every method names the IAM permissions it needs, and a
// permission denied with denyPermission() fails the call the way Cloud Run does.
import {permissionDenied} from './errors.ts';

/**
 * The ErrorInfo Google APIs attach to an IAM denial: reason IAM_PERMISSION_DENIED, the permission
 * and resource in its metadata (google/api/error_reason.proto). Which domain Cloud Run names is
 * not published; error_reason.proto's own example uses googleapis.com.
 */
const denial = (permission: string, resource: string) => ({
  reason: 'IAM_PERMISSION_DENIED',
  domain: 'googleapis.com',
  metadata: {permission, resource},
});

export type PermissionCheck = {permission: string; resource: string} | {actAs: string};

const ACT_AS = 'iam.serviceaccounts.actas';

export class Iam {
  readonly #denied = new Set<string>();

  deny(permission: string): void {
    this.#denied.add(permission.toLowerCase());
  }

  /** Throws PERMISSION_DENIED for the first check whose permission was denied. */
  check(checks: PermissionCheck[]): void {
    for (const check of checks) {
      if ('actAs' in check) {
        if (this.#denied.has(ACT_AS)) {
          throw permissionDenied(
            `Permission 'iam.serviceaccounts.actAs' denied on service account ${check.actAs} (or it may not exist).`,
            denial('iam.serviceAccounts.actAs', `projects/-/serviceAccounts/${check.actAs}`),
          );
        }
      } else if (this.#denied.has(check.permission.toLowerCase())) {
        throw permissionDenied(
          `Permission '${check.permission}' denied on resource '${check.resource}' (or resource may not exist).`,
          denial(check.permission, check.resource),
        );
      }
    }
  }
}
