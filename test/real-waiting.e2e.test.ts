import assert from 'node:assert/strict';
import type {ChildProcess} from 'node:child_process';
import {after, describe, it} from 'node:test';
import {Status} from 'google-gax';
import {startEmulator, type Emulator, type WaitOperationBehaviour} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun, type RunOptions} from '../scripts/local-runner.ts';
import {errorsOf} from './support/emulated.ts';

const PROJECT = 'waiting-project';
const IMAGE = 'us-docker.pkg.dev/waiting-project/app/migrate:1';
const jobPath = (name: string) => `projects/${PROJECT}/locations/us-central1/jobs/${name}`;
/** Long enough for a rate of reads to mean something. */
const MIGRATION = JSON.stringify(['node', '-e', 'console.log("migrating"); setTimeout(() => console.log("migrated"), 8000)']);
const SLOW = JSON.stringify(['node', '-e', 'console.log("migrating"); setTimeout(() => {}, 60000)']);
/** The Cloud Run reads a wait makes. */
const READS = ['WaitOperation', 'GetExecution', 'GetOperation'];

const emulators: Emulator[] = [];
after(() => Promise.all(emulators.map((e) => e.stop())));

async function emulatorWith(waitOperation: WaitOperationBehaviour): Promise<Emulator> {
  const emulator = await startEmulator({workdir: ROOT, killGraceMs: 200, logBufferMs: 50, waitOperation});
  emulators.push(emulator);
  return emulator;
}

function action(emulator: Emulator, inputs: Record<string, string>, options: Partial<RunOptions> = {}): Promise<ActionRun> {
  return runAction({...options, inputs: {project_id: PROJECT, image: IMAGE, ...inputs}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});
}

type Execution = {completionTime?: {seconds: string; nanos: number}; conditions: Array<{type: string; executionReason?: string}>};
const executionOf = (emulator: Emulator, job: string) => emulator.executions(jobPath(job))[0] as Execution;
const completedAt = (e: Execution) => Number(e.completionTime?.seconds) * 1000 + (e.completionTime?.nanos ?? 0) / 1e6;

/**
 * Reads per minute of waiting, from the calls the emulator received: the reads after the first,
 * over the time from the first to the last.
 */
function readsPerMinute(emulator: Emulator): {reads: number; perMinute: number} {
  const reads = emulator.calls.filter((c) => READS.includes(c.short));
  const span = reads[reads.length - 1].at - reads[0].at;
  return {reads: reads.length, perMinute: reads.length < 2 ? 0 : ((reads.length - 1) / span) * 60_000};
}

const behaviours: Array<[string, WaitOperationBehaviour]> = [
  ['holds until the operation is done', 'hold'],
  ['answers at once', 'immediate'],
  ['does not exist (UNIMPLEMENTED)', 'unimplemented'],
  ['fails for good (PERMISSION_DENIED)', {code: Status.PERMISSION_DENIED, message: "Permission 'run.operations.get' denied on resource (or it may not exist)."}],
  ['keeps failing with a transient error (UNAVAILABLE)', {code: Status.UNAVAILABLE, message: 'The service is currently unavailable.'}],
];

describe('the wait for the migration, whatever WaitOperation does', {concurrency: true}, () => {
  for (const [what, behaviour] of behaviours) {
    it(`reports the migration's success, reading Cloud Run at most 20 times a minute, when WaitOperation ${what}`, async () => {
      const emulator = await emulatorWith(behaviour);
      const result = await action(emulator, {job: 'migrate', command: MIGRATION});
      assert.equal(result.code, 0, result.log.join('\n'));
      assert.deepEqual(errorsOf(result), []);
      assert.equal(result.outputs.status, 'succeeded');
      assert.ok(result.log.includes('migrating') && result.log.includes('migrated'), result.log.join('\n'));
      assert.ok(result.log.some((l) => /^Execution migrate-\w{5} succeeded in [\d.]+ s\.$/.test(l)), result.log.join('\n'));
      const {reads, perMinute} = readsPerMinute(emulator);
      assert.ok(perMinute <= 20, `${reads} reads, ${perMinute.toFixed(1)} a minute`);
      const late = emulator.calls.filter((c) => READS.includes(c.short) && c.at > completedAt(executionOf(emulator, 'migrate')));
      assert.equal(late.length, 1, 'one read, after completion, tells it');
      if (behaviour === 'hold') {
        assert.equal(emulator.callsTo('WaitOperation').length, 1, 'one long poll covers the whole run');
        assert.equal(emulator.callsTo('GetExecution').length, 1);
      } else {
        assert.ok(emulator.callsTo('GetExecution').length >= 2, 'the execution is read instead');
        assert.ok(result.log.includes('0 / 1 complete, 1 running'), 'progress is shown while it runs');
      }
    });
  }
});

describe('the wait, woken by the log', () => {
  it("reads the execution once the log shows its container ended, without waiting for a long poll that holds on", async () => {
    const emulator = await emulatorWith('hold');
    // A long poll that answers only well after the execution completed, as a late operation would.
    emulator.faults.add({method: 'WaitOperation', delayMs: 25_000, times: Infinity});
    const result = await action(emulator, {job: 'woken', command: JSON.stringify(['node', '-e', 'console.log("migrated")'])});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'succeeded');
    assert.ok(result.log.includes('migrated'));
    const [poll] = emulator.callsTo('WaitOperation');
    assert.equal(poll.code, Status.CANCELLED, 'the long poll was still holding when the run read the end, and was ended');
    assert.equal(emulator.callsTo('WaitOperation').length, 1);
    assert.ok(emulator.callsTo('GetExecution').length >= 1);
  });
});

/** Runs the action and sends it `signal` once the job says it is migrating. */
function killWhenMigrating(emulator: Emulator, inputs: Record<string, string>, signal: NodeJS.Signals) {
  let child: ChildProcess | undefined;
  let sent = false;
  return action(emulator, inputs, {
    onSpawn: (c) => (child = c),
    onLine: (line) => {
      if (!sent && line === 'migrating') {
        sent = true;
        child?.kill(signal);
      }
    },
  });
}

describe('the post step after a main step that did not see the end of its migration', {concurrency: true}, () => {
  it('leaves running a migration whose state the main step could not read, as the main step says', async () => {
    const emulator = await emulatorWith('immediate');
    emulator.faults.add({method: 'GetExecution', code: Status.PERMISSION_DENIED, message: "Permission 'run.executions.get' denied", times: Infinity});
    const main = await action(emulator, {job: 'unreadable', command: SLOW});
    assert.equal(main.code, 1);
    assert.equal(errorsOf(main).length, 1);
    assert.match(
      errorsOf(main)[0],
      /^The state of execution \S+\/unreadable-\w{5} cannot be known \(GetExecution .*run\.executions\.get.*\)\. Execution unreadable-\w{5} was left running\. Console: https:\/\/console\.cloud\.google\.com\/\S+$/,
    );
    assert.equal(main.state.settled, 'true');
    const calls = emulator.calls.length;
    const post = await action(emulator, {job: 'unreadable'}, {postState: main.state});
    assert.equal(post.code, 0);
    assert.deepEqual(post.log, []);
    assert.equal(emulator.calls.length, calls, 'the post step made no call');
    assert.equal(emulator.callsTo('CancelExecution').length, 0);
    assert.equal(executionOf(emulator, 'unreadable').completionTime, undefined, 'the migration goes on');
  });

  it('cancels the migration of a main step killed outright', async () => {
    const emulator = await emulatorWith('immediate');
    const main = await killWhenMigrating(emulator, {job: 'killed', command: SLOW}, 'SIGKILL');
    assert.equal(main.signal, 'SIGKILL');
    assert.equal(main.state.settled, undefined, 'the main step could record nothing more');
    const post = await action(emulator, {job: 'killed'}, {postState: main.state});
    assert.equal(post.code, 0);
    assert.match(post.annotations[0]?.message ?? '', /^The main step ended before execution killed-\w{5}: it was cancelled\. Logs: https:\/\//);
    assert.equal(emulator.callsTo('CancelExecution').length, 1);
    assert.equal(emulator.callsTo('RunJob').length, 1, 'the post step starts nothing');
  });
});
