import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {parse as parseYaml} from 'yaml';
import {ACTION_JSON, actionJson} from '../scripts/action-json.ts';
import {ROOT} from '../scripts/local-runner.ts';
import {helpText, LIST_INPUTS, parseCommandLine, UsageError} from '../src/cli-args.ts';

const action = parseYaml(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, {description: string; required?: boolean; default?: string}>;
};

const inputsOf = (argv: string[]) => {
  const command = parseCommandLine(argv);
  assert.equal(command.kind, 'run');
  return command.inputs;
};

const usageError = (argv: string[], message: RegExp) =>
  assert.throws(() => parseCommandLine(argv), (err: Error) => err instanceof UsageError && message.test(err.message));

describe('the command line', () => {
  it('embeds action.yml as it is now (run "npm run build" after changing it)', async () => {
    assert.equal(await readFile(ACTION_JSON, 'utf8'), await actionJson());
  });

  it('has a flag for every input of action.yml, and gives unset inputs their action.yml default', () => {
    const inputs = inputsOf(['--job', 'migrate']);
    assert.deepEqual(Object.keys(inputs), Object.keys(action.inputs));
    for (const [name, spec] of Object.entries(action.inputs)) {
      if (name !== 'job') assert.equal(inputs[name], spec.default ?? '', name);
    }
  });

  it('takes an input by its dashed or its underscored name', () => {
    assert.equal(inputsOf(['--job', 'm', '--project-id', 'my-project']).project_id, 'my-project');
    assert.equal(inputsOf(['--job', 'm', '--project_id=my-project']).project_id, 'my-project');
    assert.equal(inputsOf(['--job', 'm', '--max-retries', '2']).max_retries, '2');
  });

  it('joins a repeated list flag with newlines, one entry per flag', () => {
    const inputs = inputsOf(['--job', 'm', '--env-vars', 'A=1', '--env_vars', 'B=2', '--secrets', 'DB=db:latest', '--labels', 'team=db']);
    assert.equal(inputs.env_vars, 'A=1\nB=2');
    assert.equal(inputs.secrets, 'DB=db:latest');
    assert.equal(inputs.labels, 'team=db');
  });

  it('lists only inputs of action.yml as list flags, and no input clashes with a flag of its own', () => {
    for (const name of LIST_INPUTS) assert.ok(name in action.inputs, name);
    for (const own of ['output_file', 'debug', 'help', 'version']) assert.ok(!(own in action.inputs), own);
  });

  it('reads --output-file and --debug, --help and --version', () => {
    const command = parseCommandLine(['--job', 'm', '--output-file', 'out.env', '--debug']);
    assert.deepEqual(command.kind === 'run' && [command.outputFile, command.debug], ['out.env', true]);
    assert.equal(parseCommandLine(['--help']).kind, 'help');
    assert.equal(parseCommandLine(['-h']).kind, 'help');
    assert.equal(parseCommandLine(['--version']).kind, 'version');
  });

  it('refuses bad usage: an unknown flag, a missing value, a repeated single flag, a missing --job, an argument', () => {
    usageError(['--job', 'm', '--jbo', 'x'], /^unknown flag --jbo$/);
    usageError(['--job'], /--job/);
    usageError(['--job', 'a', '--job', 'b'], /^--job was given 2 times$/);
    usageError(['--image', 'x'], /^--job is required$/);
    usageError(['--job', 'm', 'extra'], /extra/);
  });

  it('takes a value that starts with a dash, and calls a flag given as a value a missing value', () => {
    assert.equal(inputsOf(['--job', 'm', '--args', '-c']).args, '-c');
    assert.equal(inputsOf(['--job', 'm', '--args', '-c "echo hi"']).args, '-c "echo hi"');
    assert.equal(inputsOf(['--job', 'm', '--args', '--noinput', '--command', 'manage.py']).args, '--noinput');
    assert.equal(inputsOf(['--args=-v', '--job', 'm']).args, '-v');
    usageError(['--job', 'm', '--image', '--job', 'x'], /^--image needs a value$/);
    usageError(['--job', 'm', '--args', '-h'], /^--args needs a value$/);
    usageError(['--job', 'm', '--args'], /^--args needs a value$/);
  });

  it('explains every flag in --help with its input description from action.yml', () => {
    const help = helpText('cloud-run-migrate').replace(/\s+/g, ' ');
    for (const [name, spec] of Object.entries(action.inputs)) {
      assert.ok(help.includes(`--${name.replaceAll('_', '-')} VALUE`), name);
      assert.ok(help.includes(spec.description.replace(/\s+/g, ' ')), `the description of ${name}`);
    }
    assert.match(help, /--output-file FILE/);
  });
});
