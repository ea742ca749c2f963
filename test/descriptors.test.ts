import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {describe, it} from 'node:test';
import fullSet from '@google-cloud/run/build/protos/protos.json' with {type: 'json'};
import {protobuf} from 'google-gax';
import {RUN_DESCRIPTORS, runDescriptors} from '../scripts/run-descriptors.ts';
import cutSet from '../src/run-descriptors.json' with {type: 'json'};

/** Every message, enum and service declared in a namespace, however deeply nested. */
function declared(ns: protobuf.NamespaceBase): protobuf.ReflectionObject[] {
  return ns.nestedArray.flatMap((child) => [
    ...(child.constructor === protobuf.Namespace ? [] : [child]),
    ...(child instanceof protobuf.Namespace ? declared(child) : []),
  ]);
}

/** A declaration as protobuf.js describes it, without what is nested in it. */
const shape = (object: protobuf.ReflectionObject) => {
  const {nested: _, ...rest} = object.toJSON() as {nested?: unknown};
  return rest;
};

describe('the Cloud Run descriptors the clients load', () => {
  it('are the cut of the installed package (run "npm run build" after updating it)', async () => {
    assert.equal(await readFile(RUN_DESCRIPTORS, 'utf8'), await runDescriptors());
  });

  it('declare the Jobs, Executions and Tasks services and everything they reach, exactly as the package does', () => {
    const full = protobuf.Root.fromJSON(fullSet);
    const cut = protobuf.Root.fromJSON(cutSet);
    cut.resolveAll();
    const kept = declared(cut);
    assert.ok(kept.length > 80, `${kept.length} declarations`);
    for (const name of ['Jobs', 'Executions', 'Tasks', 'Job', 'Execution', 'Task', 'RunJobRequest']) {
      assert.ok(cut.lookup(`google.cloud.run.v2.${name}`), `${name} is declared`);
    }
    assert.equal(cut.lookup('google.cloud.run.v2.Services'), null, 'other services are left out');
    for (const object of kept) {
      assert.deepEqual(shape(object), shape(full.lookup(object.fullName) as protobuf.ReflectionObject), object.fullName);
    }
  });
});
