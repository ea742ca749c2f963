import * as gax from 'google-gax';
import runDescriptors from './run-descriptors.json' with {type: 'json'};

type Descriptors = {nested?: Record<string, Descriptors>};

/** The package's descriptor set is the one that declares google.cloud.run. */
const declaresCloudRun = (json: Descriptors) => json.nested?.google?.nested?.cloud?.nested?.run !== undefined;
const narrow = <T extends object>(json: T): T => (declaresCloudRun(json) ? (runDescriptors as T) : json);

class RunGrpcClient extends gax.GrpcClient {
  override loadProtoJSON(json: gax.protobuf.INamespace, ignoreCache?: boolean) {
    return super.loadProtoJSON(narrow(json), ignoreCache);
  }
}

/**
 * runGax is google-gax as the Cloud Run clients take it (their constructors' second argument),
 * with the descriptors of the three services the action calls, Jobs, Executions and Tasks,
 * in place of the package's set for every Cloud Run service: building the gRPC and protobuf
 * definitions of all of them was a third of the time to the first call. The cut set is made
 * by scripts/run-descriptors.ts; other descriptor sets (Operations, Locations) pass through.
 */
export const runGax: typeof gax = {
  ...gax,
  GrpcClient: RunGrpcClient,
  protobufFromJSON: (json, ignoreCache) => gax.protobufFromJSON(narrow(json), ignoreCache),
};

let root: gax.protobuf.Root | undefined;

/** runMessage is a Cloud Run message type, from the same protobuf root the clients decode with. */
export function runMessage(name: 'Job'): gax.protobuf.Type {
  root ??= gax.protobufFromJSON(runDescriptors);
  return root.lookupType(`google.cloud.run.v2.${name}`);
}
