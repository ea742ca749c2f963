import {fromJSON, type PackageDefinition, type ServiceDefinition} from '@grpc/proto-loader';
import * as gax from 'google-gax';
import loggingDescriptors from './logging-descriptors.json' with {type: 'json'};
import runDescriptors from './run-descriptors.json' with {type: 'json'};

/**
 * The generated clients take google-gax as their constructors' second argument. The action gives
 * them one that builds only what a run uses: a run's first call waited on building the gRPC
 * and protobuf definitions of every service in a package, and a Locations client per client.
 */

type Descriptors = {nested?: Record<string, Descriptors>};

const declares = (json: object, path: string[]) =>
  path.reduce<Descriptors | undefined>((node, name) => node?.nested?.[name], json) !== undefined;

type Locations = InstanceType<typeof gax.LocationsClient>;
type Forward = (...args: unknown[]) => unknown;

/**
 * Each generated Cloud Run client builds a Locations client, descriptors and all, for its
 * getLocation and listLocations methods. The action calls neither: one is built if ever they are.
 */
class LocationsOnDemand {
  readonly #args: ConstructorParameters<typeof gax.LocationsClient>;
  #client?: Locations;

  constructor(...args: ConstructorParameters<typeof gax.LocationsClient>) {
    this.#args = args;
  }

  #built(): Locations {
    return (this.#client ??= new gax.LocationsClient(...this.#args));
  }

  getLocation(...args: unknown[]) {
    return (this.#built().getLocation as Forward).apply(this.#client, args);
  }

  listLocationsAsync(...args: unknown[]) {
    return (this.#built().listLocationsAsync as Forward).apply(this.#client, args);
  }

  async close(): Promise<void> {
    await this.#client?.close();
  }
}

/**
 * gaxWith loads `cut` in place of the package's descriptor set that declares the package at
 * `path`; other descriptor sets (Operations, Locations) pass through. `adjust` may change the
 * gRPC methods defined by `cut` before a client is built from them.
 */
function gaxWith(cut: object, path: string[], adjust?: (definition: PackageDefinition) => void): typeof gax {
  const narrow = <T extends object>(json: T): T => (declares(json, path) ? (cut as T) : json);
  class NarrowGrpcClient extends gax.GrpcClient {
    override loadProtoJSON(json: gax.protobuf.INamespace, ignoreCache?: boolean) {
      if (!adjust || !declares(json, path)) return super.loadProtoJSON(narrow(json), ignoreCache);
      // As the base class does, with its options (private in its types), less its cache.
      const definition = fromJSON(cut, gax.GrpcClient['defaultOptions']());
      adjust(definition);
      return this.grpc.loadPackageDefinition(definition);
    }
  }
  return {
    ...gax,
    GrpcClient: NarrowGrpcClient,
    LocationsClient: LocationsOnDemand as unknown as typeof gax.LocationsClient,
    protobufFromJSON: (json, ignoreCache) => gax.protobufFromJSON(narrow(json), ignoreCache),
  };
}

/**
 * runGax loads the descriptors of the three Cloud Run services the action calls, Jobs, Executions
 * and Tasks, not the package's set for every Cloud Run service (Services, Revisions, Builds...).
 */
export const runGax = gaxWith(runDescriptors, ['google', 'cloud', 'run']);

/** A response kept as the bytes it came in, decoded when its reader gets to it. */
export class Undecoded<T> {
  readonly #bytes: Buffer;
  readonly #decode: (bytes: Buffer) => T;

  constructor(bytes: Buffer, decode: (bytes: Buffer) => T) {
    this.#bytes = bytes;
    this.#decode = decode;
  }

  decode(): T {
    return this.#decode(this.#bytes);
  }
}

/**
 * loggingGax loads Logging's entry service alone, with a log entry that declares only the fields
 * the action prints from: the others are skipped on the wire instead of decoded, twice (message,
 * then plain object), for every line of a job that prints a lot.
 *
 * TailLogEntries responses come as Undecoded: while the tail waits for a slow reader, the
 * streams between gRPC and the follower fill with up to 32 responses of up to 1,000 entries.
 * Held as bytes they are a few megabytes; decoded they were ten times that, kept long enough
 * for V8 to promote them to the old generation.
 */
export const loggingGax = gaxWith(loggingDescriptors, ['google', 'logging'], (definition) => {
  const tail = (definition['google.logging.v2.LoggingServiceV2'] as ServiceDefinition).TailLogEntries;
  const decode = tail.responseDeserialize;
  tail.responseDeserialize = (bytes) => new Undecoded(bytes, decode);
});

let root: gax.protobuf.Root | undefined;

/** runMessage is a Cloud Run message type, from the same protobuf root the clients decode with. */
export function runMessage(name: 'Job'): gax.protobuf.Type {
  root ??= gax.protobufFromJSON(runDescriptors);
  return root.lookupType(`google.cloud.run.v2.${name}`);
}
