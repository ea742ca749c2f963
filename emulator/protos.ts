// Loads the API's own .proto files (from the installed client packages) and
// turns them into grpc-js service definitions and google.protobuf.Any payloads.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import type {ServiceDefinition} from '@grpc/grpc-js';
// protobufjs as google-gax (a dependency) ships it.
import {protobuf} from 'google-gax';

/** A protobuf message as a plain object: camelCase fields, int64 as strings, enums as names. */
export type Message = Record<string, any>;

const require = createRequire(import.meta.url);

// Each package's main is build/src/index.js; its protos sit in build/protos.
function protosOf(pkg: string): string {
  return path.join(path.dirname(require.resolve(pkg)), '..', 'protos');
}

const INCLUDE_DIRS = [protosOf('google-gax'), protosOf('@google-cloud/run'), protosOf('@google-cloud/logging-api')];

const FILES = [
  'google/cloud/run/v2/job.proto',
  'google/cloud/run/v2/execution.proto',
  'google/cloud/run/v2/task.proto',
  'google/longrunning/operations.proto',
  'google/logging/v2/logging.proto',
  'google/rpc/error_details.proto',
];

// defaults: false keeps presence visible (e.g. max_retries, which is in a oneof, set to 0).
const TO_OBJECT: protobuf.IConversionOptions = {longs: String, enums: String, defaults: false};

export class Protos {
  readonly #root: protobuf.Root;

  constructor() {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) =>
      INCLUDE_DIRS.map(dir => path.join(dir, target)).find(file => fs.existsSync(file)) ?? target;
    root.loadSync(FILES, {keepCase: false});
    root.resolveAll();
    this.#root = root;
  }

  /** A grpc-js service definition keyed by the proto's method names ('RunJob'). */
  service(fullName: string): ServiceDefinition {
    const service = this.#root.lookupService(fullName);
    const definition: Record<string, ServiceDefinition[string]> = {};
    for (const method of service.methodsArray) {
      const request = method.resolvedRequestType!;
      const response = method.resolvedResponseType!;
      definition[method.name] = {
        path: `/${fullName}/${method.name}`,
        requestStream: Boolean(method.requestStream),
        responseStream: Boolean(method.responseStream),
        requestSerialize: (value: Message) => this.#encode(request, value),
        requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), TO_OBJECT),
        responseSerialize: (value: Message) => this.#encode(response, value),
        responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), TO_OBJECT),
        originalName: method.name,
      };
    }
    return definition;
  }

  /** A google.protobuf.Any holding `value` encoded as the message type `typeName`. */
  pack(typeName: string, value: Message): Message {
    const type = this.#root.lookupType(typeName);
    // protobufjs predefines Any with its proto field names, which keepCase: false does not change.
    return {type_url: `type.googleapis.com/${typeName}`, value: this.#encode(type, value)};
  }

  /** A google.rpc.Status, encoded as the `grpc-status-details-bin` trailer carries it. */
  status(code: number, message: string, errorInfo?: Message): Buffer {
    const details = errorInfo ? [this.pack('google.rpc.ErrorInfo', errorInfo)] : [];
    return this.#encode(this.#root.lookupType('google.rpc.Status'), {code, message, details});
  }

  #encode(type: protobuf.Type, value: Message): Buffer {
    return Buffer.from(type.encode(type.fromObject(value)).finish());
  }
}
