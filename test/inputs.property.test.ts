import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import fc from 'fast-check';
import {parse as parseYaml} from 'yaml';
import {startEmulator, type Emulator} from '../emulator/index.ts';
import {readInputs} from '../src/inputs.ts';
import type {Io} from '../src/io.ts';
import {run} from '../src/main.ts';
import {InputError} from '../src/parse.ts';
import {ROOT} from '../scripts/local-runner.ts';

/** A valid set of inputs, each of which the properties below replace with something generated. */
const VALID: Record<string, string> = {
  job: 'migrate',
  project_id: 'prop-project',
  region: 'europe-west1',
  image: 'us-docker.pkg.dev/p/app/migrate:1',
  command: '["node", "-e", ""]',
  args: 'up --yes',
  env_vars: 'A=1\nB=2',
  secrets: 'DB_PASSWORD=db-password:3',
  timeout: '10m',
  max_retries: '0',
  labels: 'team=db',
};

/** Strings that break parsers: quotes, separators, control characters, unicode, long runs. */
const nasty = fc.oneof(
  fc.string({unit: 'binary', maxLength: 80}),
  fc.constantFrom('', ' ', '"', "'", '[', '[1]', '{}', '=', ',', '\n', '=\n=', 'a b', '-1', '1e3', 'NaN', '0x10', '∞', '10 m', '1h 30m', 'yes', 'TRUE ', 'projects//locations//jobs/'),
  fc.string({unit: 'grapheme', maxLength: 300}),
  fc.string({maxLength: 5}).map((s) => s.repeat(2000)),
);

let inputNames: string[];
let emulator: Emulator;

before(async () => {
  const action = parseYaml(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {inputs: Record<string, unknown>};
  inputNames = Object.keys(action.inputs);
  emulator = await startEmulator({workdir: ROOT});
});
after(() => emulator.stop());

/** Inputs where one, or a few, of the valid values are replaced by generated strings. */
const mutated = () =>
  fc.dictionary(fc.constantFrom(...inputNames), nasty, {minKeys: 1, maxKeys: 3}).map((changes) => ({...VALID, ...changes}));

describe('the input parser, under generated input', () => {
  it('either accepts the inputs or throws an InputError naming one of them, never anything else', () => {
    fc.assert(
      fc.property(mutated(), (inputs) => {
        try {
          readInputs((name) => (inputs[name] ?? '').trim(), {});
        } catch (err) {
          assert.ok(err instanceof InputError, `threw ${String(err)}`);
          assert.match(err.message, /^(Input "([a-z_]+)"|CLOUD_RUN_EMULATOR_HOST)/);
          const named = /^Input "([a-z_]+)"/.exec(err.message)?.[1];
          assert.ok(named && inputNames.includes(named), `names an input: ${err.message}`);
        }
      }),
      {numRuns: 3000},
    );
  });

  it('fails every rejected input before any call reaches Cloud Run', async () => {
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(mutated(), async (inputs) => {
        const getInput = (name: string) => (inputs[name] ?? '').trim();
        try {
          readInputs(getInput, {});
          return;
        } catch {
          rejected++;
        }
        const failures: string[] = [];
        const io = {info() {}, untrusted: () => true, marks: {}, drained: async () => undefined, warning() {}, debug() {}, mask() {}, output() {}, remember() {}, summary: async () => {}, fail: (m: string) => failures.push(m)} satisfies Io;
        await run({getInput, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}, io, version: 'test'});
        assert.equal(failures.length, 1);
        assert.match(failures[0], /^Input "/);
      }),
      {numRuns: 1000},
    );
    assert.ok(rejected > 500, `${rejected} rejected inputs exercised`);
    assert.equal(emulator.calls.length, 0, 'no call reached the emulator');
  });
});
