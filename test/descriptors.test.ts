import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {describe, it} from 'node:test';
import loggingSet from '@google-cloud/logging-api/build/protos/protos.json' with {type: 'json'};
import runSet from '@google-cloud/run/build/protos/protos.json' with {type: 'json'};
import {GrpcClient, protobuf} from 'google-gax';
import {CUTS, cutDescriptors} from '../scripts/descriptors.ts';
import loggingCut from '../src/logging-descriptors.json' with {type: 'json'};
import runCut from '../src/run-descriptors.json' with {type: 'json'};

/** Every message, enum and service declared in a namespace, however deeply nested. */
function declared(ns: protobuf.NamespaceBase): protobuf.ReflectionObject[] {
  return ns.nestedArray.flatMap((child) => [
    ...(child.constructor === protobuf.Namespace ? [] : [child]),
    ...(child instanceof protobuf.Namespace ? declared(child) : []),
  ]);
}

type Shape = {fields?: Record<string, unknown>; oneofs?: Record<string, {oneof: string[]}>};

/** A declaration as protobuf.js describes it, without what is nested in it, with only the fields kept. */
const shape = (object: protobuf.ReflectionObject, kept?: string[]) => {
  const {nested: _, ...rest} = object.toJSON() as Shape & {nested?: unknown};
  if (!kept) return rest;
  const fields = Object.fromEntries(Object.entries(rest.fields ?? {}).filter(([name]) => kept.includes(name)));
  const oneofs = Object.fromEntries(
    Object.entries(rest.oneofs ?? {}).map(([name, {oneof}]) => [name, {oneof: oneof.filter((f) => kept.includes(f))}]),
  );
  return {...rest, fields, ...(rest.oneofs && {oneofs})};
};

/** Each declaration in the cut is the package's, fields left out only where the cut says so. */
function assertDeclaredAsInPackage(cutSet: object, fullSet: object, fields: Record<string, string[]> = {}) {
  const full = protobuf.Root.fromJSON(fullSet);
  const cut = protobuf.Root.fromJSON(cutSet);
  cut.resolveAll();
  for (const object of declared(cut)) {
    const theirs = full.lookup(object.fullName) as protobuf.ReflectionObject;
    assert.deepEqual(shape(object), shape(theirs, fields[object.fullName.slice(1)]), object.fullName);
  }
  return {full, cut, count: declared(cut).length};
}

describe('the descriptors the clients load', () => {
  for (const [name, cut] of Object.entries(CUTS)) {
    it(`${name}: are the cut of the installed package (run "npm run build" after updating it)`, async () => {
      assert.equal(await readFile(cut.output, 'utf8'), await cutDescriptors(cut));
    });
  }

  it('Cloud Run: declare Jobs, Executions and Tasks and everything they reach, exactly as the package does', () => {
    const {cut, count} = assertDeclaredAsInPackage(runCut, runSet);
    assert.ok(count > 80, `${count} declarations`);
    for (const name of ['Jobs', 'Executions', 'Tasks', 'Job', 'Execution', 'Task', 'RunJobRequest']) {
      assert.ok(cut.lookup(`google.cloud.run.v2.${name}`), `${name} is declared`);
    }
    assert.equal(cut.lookup('google.cloud.run.v2.Services'), null, 'other services are left out');
  });

  it('Logging: declare the entry service exactly as the package does, and of a log entry the fields printed', () => {
    const {fields} = CUTS.logging;
    const {full, cut} = assertDeclaredAsInPackage(loggingCut, loggingSet, fields);
    const service = cut.lookupService('google.logging.v2.LoggingServiceV2');
    assert.ok(service.methods.ListLogEntries && service.methods.TailLogEntries);
    assert.equal(cut.lookup('google.logging.v2.ConfigServiceV2'), null, 'other services are left out');
    for (const [message, kept] of Object.entries(fields)) {
      assert.deepEqual(Object.keys(cut.lookupType(message).fields).sort(), [...kept].sort(), `${message} keeps exactly these`);
      for (const field of kept) assert.ok(full.lookupType(message).fields[field], `${message}.${field} is in the package`);
    }
  });

  it('Logging: a log entry the service encodes in full decodes to the fields printed, the rest skipped', () => {
    const entry = {
      logName: 'projects/p/logs/run.googleapis.com%2Fstdout',
      resource: {type: 'cloud_run_job', labels: {job_name: 'migrate', location: 'europe-west1'}},
      jsonPayload: {fields: {message: {stringValue: 'applied 3 migrations'}}},
      timestamp: {seconds: 1_700_000_000, nanos: 5},
      receiveTimestamp: {seconds: 1_700_000_001, nanos: 0},
      severity: 200,
      insertId: 'abc',
      labels: {'run.googleapis.com/task_index': '1'},
      trace: 'projects/p/traces/t',
      sourceLocation: {file: 'migrate.ts', line: 12},
    };
    const fullType = protobuf.Root.fromJSON(loggingSet).lookupType('google.logging.v2.LogEntry');
    const cutType = protobuf.Root.fromJSON(loggingCut).lookupType('google.logging.v2.LogEntry');
    const decoded = cutType.toObject(cutType.decode(fullType.encode(fullType.fromObject(entry)).finish()), {longs: Number});
    const {logName, jsonPayload, severity, timestamp, insertId, labels} = entry;
    assert.deepEqual(decoded, {logName, jsonPayload, severity, timestamp, insertId, labels});
  });

  it("Logging: a log entry's severity reaches the client as its name, or as its number when it has none", () => {
    const cutType = protobuf.Root.fromJSON(loggingCut).lookupType('google.logging.v2.LogEntry');
    const options = GrpcClient['defaultOptions']() as protobuf.IConversionOptions;
    const decoded = (severity: number) => cutType.toObject(cutType.decode(cutType.encode(cutType.fromObject({severity})).finish()), options).severity;
    assert.deepEqual([decoded(500), decoded(400), decoded(0), decoded(450)], ['ERROR', 'WARNING', 'DEFAULT', 450]);
  });
});
