import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import type {Emulator} from '../emulator/index.ts';
import {copyCli, type CliRun, type CopiedCli} from './support/cli.ts';
import {startTestEmulator} from './support/emulated.ts';

const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate:1';
const node = (script: string) => JSON.stringify(['node', '-e', script]);

let emulator: Emulator;
let copy: CopiedCli;
let dir: string;
let cli: string;

before(async () => {
  emulator = await startTestEmulator();
  copy = await copyCli('cli-e2e-');
  ({dir, path: cli} = copy);
});

after(async () => {
  await emulator.stop();
  await copy.remove();
});

const cloudRunMigrate = (...args: string[]): Promise<CliRun> => copy.run(args, {CLOUD_RUN_EMULATOR_HOST: emulator.address});

const job = (name: string, script: string, ...more: string[]) =>
  cloudRunMigrate('--job', name, '--project-id', 'test-project', '--image', IMAGE, '--command', node(script), ...more);

const outputs = (text: string) =>
  Object.fromEntries(text.split('\n').flatMap((line) => (/^[a-z_]+=/.test(line) ? [[line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]] : [])));

describe('the command line, run from dist/cli/ against the emulator', () => {
  it('runs the migration, prints its output and ends with the outputs as name=value, exit 0', async () => {
    const result = await job('cli-ok', 'console.log("Applied 001_init.sql")');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const lines = result.stdout.trimEnd().split('\n');
    assert.ok(lines.includes('Creating job cli-ok...'));
    assert.ok(lines.includes('Applied 001_init.sql'));
    assert.ok(lines.some((line) => /^Execution cli-ok-\w{5} succeeded in /.test(line)));
    assert.ok(lines.includes('status=succeeded'));
    assert.deepEqual(Object.keys(outputs(result.stdout)), ['changed', 'execution', 'execution_id', 'log_url', 'status', 'exit_code', 'duration', 'succeeded_count', 'failed_count']);
    assert.equal(lines.at(-1), 'failed_count=0', 'the outputs come last');
  });

  it('fails with exit 1, one error line on stderr and no workflow command anywhere', async () => {
    const result = await job('cli-fails', 'console.error("relation customers already exists"); process.exit(3)');
    assert.equal(result.code, 1);
    const errors = result.stderr.trimEnd().split('\n');
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0], /^error: Execution cli-fails-\w{5} of job cli-fails failed after [\d.]+ s: the container exited with code 3: The container exited with an error\. Logs: https:\/\//);
    assert.doesNotMatch(result.stdout + result.stderr, /^::/m);
    assert.match(result.stdout, /^ERROR relation customers already exists$/m, 'a stderr line, marked without colour: stdout is no terminal');
    assert.equal(outputs(result.stdout).status, 'failed');
    assert.equal(outputs(result.stdout).exit_code, '3');
  });

  it('hides values that look like credentials, even when the job prints them', async () => {
    const result = await job('cli-masked', 'console.log("connecting with", process.env.DB_PASSWORD)', '--env-vars', 'DB_PASSWORD=hunter2-hunter2', '--env-vars', 'LOG_LEVEL=info');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^connecting with \*\*\*$/m);
    assert.ok(!result.stdout.includes('hunter2-hunter2'));
  });

  it('writes the outputs to --output-file instead of printing them', async () => {
    const file = join(dir, 'migrate.env');
    const result = await job('cli-file', '', '--output-file', file);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /^status=/m);
    const written = outputs(await readFile(file, 'utf8'));
    assert.equal(written.status, 'succeeded');
    assert.match(written.execution, /^projects\/test-project\/locations\/us-central1\/jobs\/cli-file\/executions\/cli-file-\w{5}$/);
  });

  it('fails with exit 2 on an input the action refuses, before calling Cloud Run', async () => {
    const before = emulator.calls.length;
    const result = await cloudRunMigrate('--job', 'Bad_Name', '--project-id', 'test-project');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: Input "job" must be a job name/);
    assert.equal(emulator.calls.length, before);
  });

  it('cancels the execution when it is interrupted (Ctrl-C), and exits 1', async () => {
    const env = {PATH: process.env.PATH ?? '', HOME: dir, CLOUD_RUN_EMULATOR_HOST: emulator.address};
    const args = ['--job', 'cli-interrupted', '--project-id', 'test-project', '--image', IMAGE, '--command', node('setTimeout(() => {}, 60000)')];
    const child = spawn(process.execPath, [cli, ...args], {env, cwd: dir});
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // Once, as a user would: a later chunk's signal could land while the process exits, and kill it.
      if (!interrupted && /^Started execution /m.test(stdout)) interrupted = child.kill('SIGINT');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('close', (exitCode, signal) => resolve(exitCode ?? signal)));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^error: .*execution cli-interrupted-\w{5} .*: it was cancelled\./m);
    assert.equal(outputs(stdout).status, 'cancelled');
    // A cancel is asynchronous: the task is counted as cancelled once it has stopped.
    const cancelledCount = () =>
      (emulator.executions('projects/test-project/locations/us-central1/jobs/cli-interrupted') as Array<{cancelledCount?: number}>)[0].cancelledCount;
    for (const end = Date.now() + 10_000; cancelledCount() !== 1 && Date.now() < end; ) await sleep(20);
    assert.equal(cancelledCount(), 1, 'the execution was cancelled in Cloud Run');
  });

  it('shows every flag with --help, exit 0', async () => {
    const result = await cloudRunMigrate('--help');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: cloud-run-migrate --job NAME/);
    for (const flag of ['--job', '--project-id', '--env-vars', '--timeout', '--output-file']) assert.ok(result.stdout.includes(`  ${flag} `), flag);
  });

  it('refuses an unknown flag with exit 2, before calling Cloud Run', async () => {
    const before = emulator.calls.length;
    const result = await cloudRunMigrate('--job', 'migrate', '--regoin', 'europe-west1');
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'error: unknown flag --regoin\nRun "cloud-run-migrate --help" to see the flags.\n');
    assert.equal(result.stdout, '');
    assert.equal(emulator.calls.length, before);
  });
});
