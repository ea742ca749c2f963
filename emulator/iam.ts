// Permission checks: every method names the IAM permissions it needs, and a
// permission denied with denyPermission() fails the call the way Cloud Run does.
import {permissionDenied} from './errors.ts';

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
          );
        }
      } else if (this.#denied.has(check.permission.toLowerCase())) {
        throw permissionDenied(`Permission '${check.permission}' denied on resource '${check.resource}' (or resource may not exist).`);
      }
    }
  }
}
