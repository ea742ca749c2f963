import assert from 'node:assert/strict';
import type {ChildProcess} from 'node:child_process';
import {after, before, describe, it} from 'node:test';
import {Status} from 'google-gax';
import type {Emulator} from '../emulator/index.ts';
import {runAction, type ActionRun, type RunOptions} from '../scripts/local-runner.ts';
import {callsFor, errorsOf, startTestEmulator} from './support/emulated.ts';

const PROJECT = 'safety-project';
const IMAGE = 'us-docker.pkg.dev/safety-project/app/migrate:1';
const jobPath = (name: string) => `projects/${PROJECT}/locations/us-central1/jobs/${name}`;
const SLOW = JSON.stringify(['node', '-e', 'console.log("migrating"); setTimeout(() => {}, 60000)']);

let emulator: Emulator;
before(async () => {
  emulator = await startTestEmulator();
});
after(() => emulator.stop());

const completionStatus = (job: string) => (emulator.executions(jobPath(job))[0] as {conditions: Array<{type: string; executionReason?: string}>}).conditions.find((c) => c.type === 'Completed')?.executionReason;

function action(inputs: Record<string, string>, options: Partial<RunOptions> = {}): Promise<ActionRun> {
  return runAction({
    ...options,
    inputs: {project_id: PROJECT, image: IMAGE, ...inputs},
    env: {CLOUD_RUN_EMULATOR_HOST: emulator.address, ...options.env},
  });
}

/** Runs the action and sends it `signal` once a line matching `when` is printed, as the runner does on cancel. */
function cancelWhen(inputs: Record<string, string>, when: RegExp, signal: NodeJS.Signals = 'SIGINT') {
  let child: ChildProcess | undefined;
  let signalledAt = 0;
  const result = action(inputs, {
    onSpawn: (c) => (child = c),
    onLine: (line) => {
      if (!signalledAt && when.test(line)) {
        signalledAt = Date.now();
        child?.kill(signal);
      }
    },
  });
  return result.then((r) => ({...r, signalledAt}));
}

describe('cancellation of the workflow', () => {
  it('cancels the running execution on SIGINT, says so with the log link, and fails', async () => {
    const result = await cancelWhen({job: 'abort-cancel', command: SLOW}, /^migrating$/);
    assert.equal(result.code, 1);
    assert.ok(result.exitedAt - result.signalledAt < 7500, 'done within the runner\'s SIGINT grace');
    assert.equal(result.outputs.status, 'cancelled');
    assert.match(errorsOf(result)[0], /^The workflow was cancelled while execution abort-cancel-\w{5} of job abort-cancel was running: it was cancelled\. Logs: https:\/\//);
    assert.equal(callsFor(emulator, 'CancelExecution', 'abort-cancel').length, 1);
    assert.equal(callsFor(emulator, 'RunJob', 'abort-cancel').length, 1);
    assert.equal(result.state.settled, 'true', 'the post step has nothing left to do');
    assert.match(result.summary, /\| Status \| ❌ cancelled \|/);
    assert.match(result.summary, /\| Reason \| the workflow was cancelled, so the execution was cancelled \|/);
  });

  it('treats SIGTERM as SIGINT', async () => {
    const result = await cancelWhen({job: 'abort-term', command: SLOW}, /^migrating$/, 'SIGTERM');
    assert.equal(result.code, 1);
    assert.equal(callsFor(emulator, 'CancelExecution', 'abort-term').length, 1);
  });

  it('leaves the execution running with cancel_on_abort: false, and says where it is', async () => {
    const result = await cancelWhen({job: 'abort-leave', command: SLOW, cancel_on_abort: 'false'}, /^migrating$/);
    assert.equal(result.code, 1);
    assert.match(errorsOf(result)[0], /^The workflow was cancelled; execution abort-leave-\w{5} was left running \(cancel_on_abort: false\)\. Console: https:\/\//);
    assert.equal(callsFor(emulator, 'CancelExecution', 'abort-leave').length, 0);
    assert.equal(completionStatus('abort-leave'), undefined, 'still running');
  });

  it('exits within the grace window even when the cancel call hangs', async () => {
    emulator.faults.add({method: 'CancelExecution', hang: true, when: (r) => String(r.name).includes('abort-hang')});
    const result = await cancelWhen({job: 'abort-hang', command: SLOW}, /^migrating$/);
    assert.equal(result.code, 1);
    assert.ok(result.exitedAt - result.signalledAt < 7500, `exited ${result.exitedAt - result.signalledAt} ms after SIGINT`);
    assert.match(errorsOf(result)[0], /cancelling it did not succeed in time, so it may still be running/);
  });

  it('starts nothing once cancelled before the execution was started', async () => {
    emulator.faults.add({method: 'GetJob', delayMs: 1500, when: (r) => String(r.name).includes('abort-early')});
    let child: ChildProcess | undefined;
    const pending = action({job: 'abort-early', command: SLOW}, {onSpawn: (c) => (child = c)});
    await new Promise((resolve) => setTimeout(resolve, 700));
    child?.kill('SIGINT');
    const result = await pending;
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), ['The workflow was cancelled before the job was started: nothing was run.']);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(callsFor(emulator, 'RunJob', 'abort-early').length, 0);
  });

  it('cancels, in the post step, an execution the killed main step left running', async () => {
    const main = await cancelWhen({job: 'abort-killed', command: SLOW}, /^migrating$/, 'SIGKILL');
    assert.equal(main.signal, 'SIGKILL');
    assert.ok(main.state.execution, 'the main step remembered its execution');
    const post = await action({job: 'abort-killed'}, {postState: main.state});
    assert.equal(post.code, 0);
    assert.equal(callsFor(emulator, 'CancelExecution', 'abort-killed').length, 1);
    assert.match(post.annotations[0]?.message ?? '', /^The main step ended before execution abort-killed-\w{5}: it was cancelled\./);
    assert.equal(callsFor(emulator, 'RunJob', 'abort-killed').length, 1, 'the post step starts nothing');
  });

  it('does nothing in the post step after a run that finished', async () => {
    const main = await action({job: 'post-idle', command: JSON.stringify(['node', '-e', ''])});
    assert.equal(main.code, 0);
    const calls = emulator.calls.length;
    const post = await action({job: 'post-idle'}, {postState: main.state});
    assert.equal(post.code, 0);
    assert.deepEqual(post.log, []);
    assert.equal(emulator.calls.length, calls, 'the post step made no call');
  });
});

describe('a job the action runs as it is', () => {
  const putJob = (name: string, template: object) =>
    emulator.putJob({name: jobPath(name), template: {template: {containers: [{image: IMAGE, command: ['node', '-e', '']}], ...template}}});

  it('is refused when it would retry a failed migration the user did not accept', async () => {
    putJob('retries-unset', {});
    const result = await runAction({inputs: {project_id: PROJECT, job: 'retries-unset'}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [
      'Job retries-unset retries a failed task up to 3 times, so a half-applied migration could run again: set max_retries: 3 to accept that, or set "image" to let this action manage the job (one task, no retries). Nothing was run.',
    ]);
    assert.equal(callsFor(emulator, 'RunJob', 'retries-unset').length, 0);
  });

  it('runs when max_retries names the job\'s own setting', async () => {
    putJob('retries-accepted', {maxRetries: 2});
    const result = await runAction({inputs: {project_id: PROJECT, job: 'retries-accepted', max_retries: '2'}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});
    assert.equal(result.code, 0, result.log.join('\n'));
  });

  it('is refused when it runs several tasks, unless task_count names them', async () => {
    emulator.putJob({name: jobPath('several'), template: {taskCount: 3, template: {maxRetries: 0, containers: [{image: IMAGE, command: ['node', '-e', '']}]}}});
    const refused = await runAction({inputs: {project_id: PROJECT, job: 'several'}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});
    assert.equal(refused.code, 1);
    assert.match(errorsOf(refused)[0], /^Job several runs 3 tasks, so the migration would run 3 times: set task_count: 3 to accept that/);
    const accepted = await runAction({inputs: {project_id: PROJECT, job: 'several', task_count: '3'}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});
    assert.equal(accepted.code, 0, accepted.log.join('\n'));
    assert.equal(callsFor(emulator, 'RunJob', 'several').length, 1);
  });
});

describe('a run of a job the action manages', () => {
  it('corrects retries and tasks left on the job before running it', async () => {
    emulator.putJob({name: jobPath('corrected'), template: {taskCount: 4, template: {maxRetries: 5, containers: [{image: 'old', command: ['node', '-e', '']}]}}});
    const result = await action({job: 'corrected', command: JSON.stringify(['node', '-e', ''])});
    assert.equal(result.code, 0, result.log.join('\n'));
    const job = emulator.getJob(jobPath('corrected')) as {template: {taskCount: number; template: {maxRetries: number}}};
    assert.equal(job.template.taskCount, 1);
    assert.equal(job.template.template.maxRetries, 0);
  });

  it('adopts the execution a RunJob created when its answer was lost, rather than run again', async () => {
    emulator.faults.add({method: 'RunJob', code: Status.UNAVAILABLE, afterEffect: true, when: (r) => String(r.name).includes('lost-answer')});
    const result = await action({job: 'lost-answer', command: JSON.stringify(['node', '-e', 'console.log("ran")'])});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(callsFor(emulator, 'RunJob', 'lost-answer').length, 1);
    assert.equal(emulator.executions(jobPath('lost-answer')).length, 1);
    assert.ok(result.log.some((l) => /^The answer to RunJob was lost; execution lost-answer-\w{5}, created by it, is this run's\.$/.test(l)));
    assert.equal(result.outputs.status, 'succeeded');
  });

  it('reads the job again, rather than fail or run twice, when the answer to CreateJob is lost', async () => {
    emulator.faults.add({method: 'CreateJob', code: Status.DEADLINE_EXCEEDED, afterEffect: true, when: (r) => r.jobId === 'lost-update'});
    const result = await action({job: 'lost-update', command: JSON.stringify(['node', '-e', ''])});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.ok(result.log.includes('The answer to CreateJob was lost; looking at job lost-update again.'));
    assert.equal(callsFor(emulator, 'RunJob', 'lost-update').length, 1);
    assert.equal(emulator.executions(jobPath('lost-update')).length, 1);
  });

  it('looks at the job again when it was deleted between reading and updating it', async () => {
    emulator.putJob({name: jobPath('deleted-meanwhile'), template: {template: {maxRetries: 0, containers: [{image: 'x:1'}]}}});
    emulator.faults.add({method: 'UpdateJob', code: Status.NOT_FOUND, when: (r) => String(r.job?.name).endsWith('/jobs/deleted-meanwhile')});
    const result = await action({job: 'deleted-meanwhile', command: JSON.stringify(['node', '-e', ''])});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.ok(result.log.includes('Job deleted-meanwhile was deleted meanwhile; looking at it again.'));
    assert.equal(callsFor(emulator, 'UpdateJob', 'deleted-meanwhile').length, 2);
    assert.equal(emulator.executions(jobPath('deleted-meanwhile')).length, 1);
  });

  it('runs again, once, when a RunJob whose answer was lost created nothing', async () => {
    emulator.faults.add({method: 'RunJob', code: Status.UNAVAILABLE, times: 1, when: (r) => String(r.name).includes('lost-before')});
    const result = await action({job: 'lost-before', command: JSON.stringify(['node', '-e', ''])});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(callsFor(emulator, 'RunJob', 'lost-before').length, 2);
    assert.equal(emulator.executions(jobPath('lost-before')).length, 1);
  });
});
