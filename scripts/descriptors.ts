import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {protobuf} from 'google-gax';
import {ROOT} from './local-runner.ts';

/**
 * The descriptors the action's clients load (src/gax.ts), cut from the sets the packages
 * ship. Each keeps the services a run calls and every message and enum their methods reach,
 * declared exactly as in the package, except for the few messages whose fields are listed in
 * `fields`: those keep only the fields the action reads. `npm run build` writes the cuts before
 * bundling; a test checks they are current.
 */
export interface Cut {
  output: string;
  fullSet: string;
  services: string[];
  /** Per message, the only fields kept: protobuf skips the others as unknown when decoding. */
  fields?: Record<string, string[]>;
}

export const CUTS = {
  /** Jobs, Executions and Tasks, not every Cloud Run service (Services, Revisions, Builds...). */
  run: {
    output: join(ROOT, 'src/run-descriptors.json'),
    fullSet: join(ROOT, 'node_modules/@google-cloud/run/build/protos/protos.json'),
    services: ['Jobs', 'Executions', 'Tasks'].map((name) => `google.cloud.run.v2.${name}`),
  },
  /**
   * Logging's entry service, not its Config and Metrics services; a log entry decodes only what
   * is printed of it (its severity as a mark), not its resource, receive time, request, trace...
   */
  logging: {
    output: join(ROOT, 'src/logging-descriptors.json'),
    fullSet: join(ROOT, 'node_modules/@google-cloud/logging-api/build/protos/protos.json'),
    services: ['google.logging.v2.LoggingServiceV2'],
    fields: {'google.logging.v2.LogEntry': ['logName', 'textPayload', 'jsonPayload', 'severity', 'timestamp', 'insertId', 'labels']},
  },
} satisfies Record<string, Cut>;

type Json = {nested?: Record<string, Json>; fields?: Record<string, unknown>; oneofs?: Record<string, {oneof: string[]}>} & Record<
  string,
  unknown
>;

const at = (json: Json, fullName: string) => fullName.split('.').reduce((node, name) => node.nested![name]!, json);

export async function cutDescriptors({fullSet, services, fields = {}}: Cut): Promise<string> {
  const full = JSON.parse(await readFile(fullSet, 'utf8')) as Json;
  for (const [message, kept] of Object.entries(fields)) {
    const json = at(full, message);
    json.fields = Object.fromEntries(Object.entries(json.fields!).filter(([name]) => kept.includes(name)));
    for (const oneof of Object.values(json.oneofs ?? {})) oneof.oneof = oneof.oneof.filter((name) => kept.includes(name));
  }
  const root = protobuf.Root.fromJSON(full);
  root.resolveAll();

  const needed = new Set<string>();
  const reach = (type: protobuf.Type | protobuf.Enum | null) => {
    if (!type || needed.has(type.fullName)) return;
    needed.add(type.fullName);
    if (type instanceof protobuf.Type) for (const field of type.fieldsArray) reach(field.resolvedType);
  };
  for (const service of services.map((name) => root.lookupService(name))) {
    needed.add(service.fullName);
    for (const method of service.methodsArray) {
      reach(method.resolvedRequestType);
      reach(method.resolvedResponseType);
    }
  }

  // Namespaces and messages are kept where something needed lies within them.
  const keep = (fullName: string) => [...needed].some((name) => name === fullName || name.startsWith(`${fullName}.`));
  const cut = (json: Json, prefix: string): Json => {
    if (!json.nested) return json;
    const nested = Object.fromEntries(
      Object.entries(json.nested)
        .filter(([name]) => keep(`${prefix}.${name}`))
        .map(([name, child]) => [name, cut(child, `${prefix}.${name}`)]),
    );
    const {nested: _, ...rest} = json;
    return Object.keys(nested).length > 0 ? {...rest, nested} : rest;
  };
  return `${JSON.stringify(cut(full, ''))}\n`;
}

export async function writeDescriptors(): Promise<void> {
  for (const cut of Object.values(CUTS)) await writeFile(cut.output, await cutDescriptors(cut));
}

if (import.meta.main) await writeDescriptors();
