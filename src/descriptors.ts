import * as gax from 'google-gax';
import loggingDescriptors from './logging-descriptors.json' with {type: 'json'};
import runDescriptors from './run-descriptors.json' with {type: 'json'};

type Descriptors = {nested?: Record<string, Descriptors>};

const declares = (json: Descriptors, path: string[]) =>
  path.reduce<Descriptors | undefined>((node, name) => node?.nested?.[name], json) !== undefined;

/**
 * gaxWith is google-gax as the generated clients take it (their constructors' second argument),
 * loading `cut` in place of the package's descriptor set that declares the package at `path`.
 * Other descriptor sets (Operations, Locations) pass through.
 */
function gaxWith(cut: object, path: string[]): typeof gax {
  const narrow = <T extends object>(json: T): T => (declares(json, path) ? (cut as T) : json);
  class NarrowGrpcClient extends gax.GrpcClient {
    override loadProtoJSON(json: gax.protobuf.INamespace, ignoreCache?: boolean) {
      return super.loadProtoJSON(narrow(json), ignoreCache);
    }
  }
  return {
    ...gax,
    GrpcClient: NarrowGrpcClient,
    protobufFromJSON: (json, ignoreCache) => gax.protobufFromJSON(narrow(json), ignoreCache),
  };
}

/**
 * runGax loads the descriptors of the three Cloud Run services the action calls, Jobs, Executions
 * and Tasks, not the package's set for every Cloud Run service: building the gRPC and protobuf
 * definitions of all of them was a third of the time to the first call.
 */
export const runGax = gaxWith(runDescriptors, ['google', 'cloud', 'run']);

/**
 * loggingGax loads Logging's entry service alone, with a log entry that declares only the fields
 * the action prints from: the others are skipped on the wire instead of decoded, twice (message,
 * then plain object), for every line of a job that prints a lot.
 */
export const loggingGax = gaxWith(loggingDescriptors, ['google', 'logging']);

let root: gax.protobuf.Root | undefined;

/** runMessage is a Cloud Run message type, from the same protobuf root the clients decode with. */
export function runMessage(name: 'Job'): gax.protobuf.Type {
  root ??= gax.protobufFromJSON(runDescriptors);
  return root.lookupType(`google.cloud.run.v2.${name}`);
}
