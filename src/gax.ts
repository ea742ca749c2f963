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

const services = (namespace: gax.protobuf.NamespaceBase): gax.protobuf.Service[] =>
  namespace.nestedArray.flatMap((child) =>
    child instanceof gax.protobuf.Service ? [child] : child instanceof gax.protobuf.Namespace ? services(child) : [],
  );

/**
 * grpcPackage is what grpc-js builds service clients from: for each method of each service in
 * `root`, its path, whether it streams, and how its messages are written and read, as plain
 * objects shaped by google-gax's options, the shape the generated clients expect. It is what
 * google-gax has @grpc/proto-loader make, less the descriptor of every message that the loader
 * also builds, for reflection, which a client never uses: those took 20 ms of a cold start.
 * Methods in `undecoded` give their responses as Undecoded.
 */
function grpcPackage(root: gax.protobuf.Root, undecoded: ReadonlySet<string>): gax.grpc.GrpcObject {
  const options = gax.GrpcClient['defaultOptions']() as gax.protobuf.IConversionOptions;
  const definition: Parameters<typeof gax.grpc.loadPackageDefinition>[0] = {};
  for (const service of services(root)) {
    const methods: Record<string, gax.grpc.MethodDefinition<object, object>> = {};
    for (const method of service.methodsArray) {
      const [request, response] = [root.lookupType(method.requestType), root.lookupType(method.responseType)];
      const path = `/${service.fullName.slice(1)}/${method.name}`;
      const decode = (bytes: Buffer) => response.toObject(response.decode(bytes), options);
      methods[method.name] = {
        path,
        requestStream: Boolean(method.requestStream),
        responseStream: Boolean(method.responseStream),
        requestSerialize: (value: object) => Buffer.from(request.encode(request.fromObject(value)).finish()),
        // A server's pair: grpc-js's type asks for it, a client never calls it.
        requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), options),
        responseSerialize: (value: object) => Buffer.from(response.encode(response.fromObject(value)).finish()),
        responseDeserialize: undecoded.has(path) ? (bytes: Buffer) => new Undecoded(bytes, decode) : decode,
        originalName: method.name[0].toLowerCase() + method.name.slice(1),
      };
    }
    definition[service.fullName.slice(1)] = methods;
  }
  return gax.grpc.loadPackageDefinition(definition);
}

/**
 * gaxWith loads `cut` in place of the package's descriptor set that declares the package at
 * `path`; other descriptor sets (Operations, Locations) pass through. Each set is parsed once,
 * into the protobuf root that the clients also decode operations with.
 */
function gaxWith(cut: object, path: string[], undecoded: string[] = []): typeof gax {
  const narrow = <T extends object>(json: T): T => (declares(json, path) ? (cut as T) : json);
  const packages = new WeakMap<gax.protobuf.Root, gax.grpc.GrpcObject>();
  class NarrowGrpcClient extends gax.GrpcClient {
    override loadProtoJSON(json: gax.protobuf.INamespace) {
      const root = gax.protobufFromJSON(narrow(json));
      let loaded = packages.get(root);
      if (!loaded) packages.set(root, (loaded = grpcPackage(root, new Set(undecoded))));
      return loaded;
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

/**
 * loggingGax loads Logging's entry service alone, with a log entry that declares only the fields
 * the action prints from: the others are skipped on the wire instead of decoded, twice (message,
 * then plain object), for every line of a job that prints a lot.
 *
 * TailLogEntries responses come as Undecoded. While the tail waits for a slow reader, the streams
 * between gRPC and the follower hold responses of up to 1,000 entries (see stream-buffers.ts):
 * decoded there, they lived long enough to be promoted to the old generation.
 */
export const loggingGax = gaxWith(loggingDescriptors, ['google', 'logging'], [
  '/google.logging.v2.LoggingServiceV2/TailLogEntries',
]);

const roots = new Map<object, gax.protobuf.Root>();

/** A message type, from the same protobuf root that the clients of its descriptor set use. */
function messageIn(descriptors: object, name: string): gax.protobuf.Type {
  let root = roots.get(descriptors);
  if (!root) roots.set(descriptors, (root = gax.protobufFromJSON(descriptors)));
  return root.lookupType(name);
}

export const runMessage = (name: 'Job') => messageIn(runDescriptors, `google.cloud.run.v2.${name}`);

export const loggingMessage = (name: 'google.protobuf.Struct') => messageIn(loggingDescriptors, name);
