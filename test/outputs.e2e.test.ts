import assert from 'node:assert/strict';
import type {ChildProcess} from 'node:child_process';
import {after, before, describe, it} from 'node:test';
import {startEmulator, type Emulator} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun} from '../scripts/local-runner.ts';
import {errorsOf, startTestEmulator} from './support/emulated.ts';

const PROJECT = 'test-project';
const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate:1';
const node = (script: string) => JSON.stringify(['node', '-e', script]);
const SLOW = node('console.log("migrating"); setTimeout(() => {}, 60000)');

const ALL = ['execution', 'execution_id', 'status', 'exit_code', 'log_url', 'duration', 'succeeded_count', 'failed_count', 'changed'];
/** Every output but exit_code, which only a container that exited by itself has. */
const NO_EXIT_CODE = ALL.filter((name) => name !== 'exit_code');

let emulator: Emulator;
before(async () => {
  emulator = await startTestEmulator();
});
after(async () => {
  await emulator.stop();
});

function action(inputs: Record<string, string>, interruptOn?: RegExp, at = emulator): Promise<ActionRun> {
  let child: ChildProcess | undefined;
  let signalled = false;
  return runAction({
    inputs: {project_id: PROJECT, image: IMAGE, ...inputs},
    env: {CLOUD_RUN_EMULATOR_HOST: at.address},
    onSpawn: (c) => (child = c),
    onLine: (line) => {
      if (interruptOn && !signalled && interruptOn.test(line)) signalled = Boolean(child?.kill('SIGINT'));
    },
  });
}

const names = (result: ActionRun) => Object.keys(result.outputs).sort();

describe('the outputs, on every path a run can end', () => {
  it('are all set when the migration succeeds or exits with an error', async () => {
    const [ok, failed] = await Promise.all([
      action({job: 'outputs-ok', command: node('')}),
      action({job: 'outputs-fails', command: node('process.exit(3)')}),
    ]);
    assert.deepEqual(names(ok), [...ALL].sort());
    assert.deepEqual(names(failed), [...ALL].sort());
    assert.deepEqual([failed.outputs.status, failed.outputs.exit_code, failed.outputs.succeeded_count, failed.outputs.failed_count], ['failed', '3', '0', '1']);
  });

  it('are all set but exit_code when the workflow is cancelled while the migration runs', async () => {
    const result = await action({job: 'outputs-cancelled', command: SLOW}, /^migrating$/);
    assert.equal(result.code, 1);
    assert.deepEqual(names(result), [...NO_EXIT_CODE].sort());
    assert.equal(result.outputs.status, 'cancelled');
    assert.equal(result.outputs.succeeded_count, '0');
    assert.equal(result.outputs.failed_count, '0');
    assert.match(result.outputs.duration, /^\d+(\.\d)?$/);
    assert.match(errorsOf(result)[0], /^The workflow was cancelled while execution outputs-cancelled-\w{5} .*: it was cancelled\./);
  });

  it('are all set but exit_code when the execution is left running (cancel_on_abort: false)', async () => {
    const result = await action({job: 'outputs-left', command: SLOW, cancel_on_abort: 'false'}, /^migrating$/);
    assert.equal(result.code, 1);
    assert.deepEqual(names(result), [...NO_EXIT_CODE].sort());
    assert.equal(result.outputs.status, 'cancelled');
    assert.equal(emulator.callsTo('CancelExecution').filter((c) => c.request.name.includes('outputs-left')).length, 0);
  });

  it('are all set but exit_code when the migration times out', async () => {
    const result = await action({job: 'outputs-timeout', command: SLOW, timeout: '1s'});
    assert.equal(result.code, 1);
    assert.deepEqual(names(result), [...NO_EXIT_CODE].sort());
    assert.deepEqual([result.outputs.status, result.outputs.failed_count], ['timed_out', '1']);
  });

  it('are all set but exit_code when the execution fails before its task starts (a missing image)', async () => {
    const strict = await startEmulator({workdir: ROOT, images: {[IMAGE]: {command: ['node', '-e', '']}}});
    try {
      assert.equal((await action({job: 'outputs-no-image'}, undefined, strict)).code, 0);
      // Removed after the job was written; concurrency: allow writes no claim, so only the execution sees it gone.
      strict.removeImage(IMAGE);
      const result = await action({job: 'outputs-no-image', concurrency: 'allow'}, undefined, strict);
      assert.equal(result.code, 1);
      assert.deepEqual(names(result), [...NO_EXIT_CODE].sort());
      assert.deepEqual([result.outputs.status, result.outputs.succeeded_count], ['failed', '0']);
    } finally {
      await strict.stop();
    }
  });

  it('hold only the status and whether the job changed when no execution was started', async () => {
    const strict = await startEmulator({workdir: ROOT});
    try {
      strict.denyPermission('run.jobs.run');
      const denied = await action({job: 'outputs-denied', command: node('')}, undefined, strict);
      assert.equal(denied.code, 1);
      assert.deepEqual(denied.outputs, {status: 'failed', changed: 'true'});
      // Slow, not hung: a call in flight keeps the process up until it is answered.
      strict.faults.add({method: 'GetJob', delayMs: 1500});
      const cancelled = await runAction({
        inputs: {project_id: PROJECT, image: IMAGE, job: 'outputs-early', command: node('')},
        env: {CLOUD_RUN_EMULATOR_HOST: strict.address},
        onSpawn: (child) => {
          const poll = setInterval(() => {
            if (strict.callsTo('GetJob').some((c) => c.request.name.endsWith('/outputs-early'))) {
              clearInterval(poll);
              child.kill('SIGINT');
            }
          }, 20);
        },
      });
      assert.equal(cancelled.code, 1);
      assert.deepEqual(cancelled.outputs, {status: 'cancelled', changed: 'false'});
      assert.deepEqual(errorsOf(cancelled), ['The workflow was cancelled before the job was started: nothing was run.']);
    } finally {
      await strict.stop();
    }
  });
});
