// Loads the API's own .proto files (from the installed client packages) and
// turns them into grpc-js service definitions and google.protobuf.Any payloads.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import type {ServiceDefinition} from '@grpc/grpc-js';
// protobufjs as google-gax, which the clients use, ships it.
import {protobuf} from 'google-gax';

/** A protobuf message as a plain object: camelCase fields, int64 as strings, enums as names. */
export type Message = Record<string, any>;

const require = createRequire(import.meta.url);

// Each package's main is build/src/index.js; its protos sit in build/protos.
function protosOf(pkg: string): string {
  return path.join(path.dirname(require.resolve(pkg)), '..', 'protos');
}

// The built emulator (dist/emulator/) is installed without those packages: `npm run build` copies
// the files it loads beside it, into protos/.
const BUILT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'protos');

export const INCLUDE_DIRS = fs.existsSync(BUILT)
  ? [BUILT]
  : [protosOf('google-gax'), protosOf('@google-cloud/run'), protosOf('@google-cloud/logging-api')];

export const FILES = [
  'google/cloud/run/v2/job.proto',
  'google/cloud/run/v2/execution.proto',
  'google/cloud/run/v2/task.proto',
  'google/longrunning/operations.proto',
  'google/logging/v2/logging.proto',
  'google/rpc/error_details.proto',
];

/** An imported file in the first include directory that has it. */
export const findProto = (target: string): string =>
  INCLUDE_DIRS.map(dir => path.join(dir, target)).find(file => fs.existsSync(file)) ?? target;

// defaults: false keeps presence visible (e.g. max_retries, which is in a oneof, set to 0).
const TO_OBJECT: protobuf.IConversionOptions = {longs: String, enums: String, defaults: false};

/**
 * A proto3 field without presence (not in a oneof, not `optional`) that holds its default value
 * is the same as an unset one to a real server: a client that fills in defaults when it reads a
 * message and sends them back changes nothing. protobufjs decodes them as set; drop them.
 */
function withoutImplicitDefaults(type: protobuf.Type, message: Message): Message {
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (value === undefined) continue;
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      if (field.map) for (const entry of Object.values(value)) withoutImplicitDefaults(resolved, entry as Message);
      else if (field.repeated) for (const entry of value) withoutImplicitDefaults(resolved, entry);
      else withoutImplicitDefaults(resolved, value);
    } else if (!field.repeated && !field.map && !field.partOf && isDefault(value, resolved)) {
      delete message[field.name];
    }
  }
  return message;
}

function isDefault(value: unknown, type: protobuf.ReflectionObject | null): boolean {
  if (type instanceof protobuf.Enum) return value === type.valuesById[0] || value === 0;
  if (value instanceof Uint8Array) return value.length === 0;
  return value === '' || value === false || value === 0 || value === '0';
}

export class Protos {
  readonly #root: protobuf.Root;

  constructor() {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => findProto(target);
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
        requestDeserialize: (bytes: Buffer) => withoutImplicitDefaults(request, request.toObject(request.decode(bytes), TO_OBJECT)),
        responseSerialize: (value: Message) => this.#encode(response, value),
        responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), TO_OBJECT),
        originalName: method.name,
      };
    }
    return definition;
  }

  /** `value` as the server would hold it after receiving it as the message type `typeName`. */
  received(typeName: string, value: Message): Message {
    const type = this.#root.lookupType(typeName);
    return withoutImplicitDefaults(type, type.toObject(type.decode(this.#encode(type, value)), TO_OBJECT));
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
