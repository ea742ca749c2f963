import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {protobuf} from 'google-gax';
import {ROOT} from './local-runner.ts';

/**
 * The Cloud Run descriptors a run needs, for src/descriptors.ts: the Jobs, Executions and Tasks
 * services and every message and enum they reach, cut from the package's descriptor set of all
 * Cloud Run services (Services, Revisions, Builds, Worker Pools...). Each message keeps its
 * fields, options and numbers exactly; only what no method of the three reaches is left out.
 * `npm run build` writes it before bundling; a test checks it is current.
 */
export const RUN_DESCRIPTORS = join(ROOT, 'src/run-descriptors.json');
const FULL_SET = join(ROOT, 'node_modules/@google-cloud/run/build/protos/protos.json');
const SERVICES = ['Jobs', 'Executions', 'Tasks'].map((name) => `google.cloud.run.v2.${name}`);

type Json = {nested?: Record<string, Json>} & Record<string, unknown>;

export async function runDescriptors(): Promise<string> {
  const full = JSON.parse(await readFile(FULL_SET, 'utf8')) as Json;
  const root = protobuf.Root.fromJSON(full);
  root.resolveAll();

  const needed = new Set<string>();
  const reach = (type: protobuf.Type | protobuf.Enum | null) => {
    if (!type || needed.has(type.fullName)) return;
    needed.add(type.fullName);
    if (type instanceof protobuf.Type) for (const field of type.fieldsArray) reach(field.resolvedType);
  };
  for (const service of SERVICES.map((name) => root.lookupService(name))) {
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

if (import.meta.main) await writeFile(RUN_DESCRIPTORS, await runDescriptors());
