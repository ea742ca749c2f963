import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {after, before, describe, it} from 'node:test';
import type {Emulator} from '../emulator/index.ts';
import {CloudRun, clientOptions} from '../src/clients.ts';
import {Status} from 'google-gax';
import type {Execution, Operation} from '../src/clients.ts';
import {awaitJobOperation, cancelExecution, startExecution, waitForExecution, Wake, WaitDeadline, type Waiting} from '../src/execution.ts';
import {READ_FLOOR_MS} from '../src/pace.ts';
import {isFinished} from '../src/outcome.ts';
import {startTestEmulator} from './support/emulated.ts';

const JOB = 'projects/exec-project/locations/us-central1/jobs/slow';

let emulator: Emulator;
let cloud: CloudRun;
before(async () => {
  emulator = await startTestEmulator();
  cloud = new CloudRun(clientOptions(emulator.address));
});
after(async () => {
  await cloud.close();
  await emulator.stop();
});

const waiting = (deadline: number): Waiting => ({
  retry: {budgetMs: 5000, initialDelayMs: 10, maxDelayMs: 100, sleep: (ms, signal) => sleep(ms, undefined, {signal}), random: Math.random},
  deadline,
  onProgress: () => undefined,
  signal: new AbortController().signal,
});

describe('the wait for an execution', () => {
  it('ends at the run\'s deadline while the execution still runs, and the execution can then be cancelled', async () => {
    const job = emulator.putJob({name: JOB, template: {template: {maxRetries: 0, containers: [{image: 'app:1', command: ['node', '-e', 'setTimeout(() => {}, 60000)']}]}}});
    const started = await startExecution(cloud, job, undefined, waiting(Date.now() + 5000).retry, {info: () => undefined});
    await assert.rejects(waitForExecution(cloud, started, waiting(Date.now() + 1000)), WaitDeadline);
    const name = started.execution.name as string;
    assert.equal(await cancelExecution(cloud, name, {debug: () => undefined}), true);
    const finished = await waitForExecution(cloud, started, waiting(Date.now() + 10_000));
    assert.ok(isFinished(finished));
    assert.equal(finished.conditions?.find((c) => c.type === 'Completed')?.executionReason, 'CANCELLED');
  });
});

const NAME = 'projects/p/locations/us-central1/jobs/j/executions/j-abcde';
const OPERATION = 'projects/p/locations/us-central1/operations/op-1';
const running: Execution = {name: NAME, taskCount: 1, runningCount: 1};
const succeeded: Execution = {
  name: NAME,
  taskCount: 1,
  succeededCount: 1,
  completionTime: {seconds: 1},
  conditions: [{type: 'Completed', state: 'CONDITION_SUCCEEDED'}],
};
const rpcError = (code: number) => Object.assign(new Error(`${code} failed`), {code});

/**
 * A Cloud Run that answers from scripts and records every read in order, with how long it waited
 * for its turn and when it came on a clock that the sleeps move on (they are instant: the test
 * looks at what the wait asked for, not at time).
 */
function scripted(script: {
  waitOperation?: (signal?: AbortSignal) => Promise<Operation>;
  executions: Execution[];
  getOperation?: () => Promise<Operation>;
  onGetExecution?: () => void;
}) {
  const reads: Array<{read: string; waitedMs: number; at: number}> = [];
  let waited = 0;
  let slept = 0;
  const record = (read: string) => {
    reads.push({read, waitedMs: waited, at: Date.now() + slept});
    waited = 0;
  };
  const cloud = {
    waitOperation: (_name: string, _seconds: number, signal?: AbortSignal) => {
      record('WaitOperation');
      return (script.waitOperation ?? (() => Promise.resolve({done: false})))(signal);
    },
    getOperation: () => {
      record('GetOperation');
      return script.getOperation?.() ?? Promise.resolve({done: true});
    },
    executions: {
      getExecution: async () => {
        record('GetExecution');
        setImmediate(() => script.onGetExecution?.());
        return [script.executions.length > 1 ? script.executions.shift() : script.executions[0]];
      },
    },
  } as unknown as CloudRun;
  const notes: string[] = [];
  const progress: string[] = [];
  const wait = (extra: Partial<Waiting> = {}): Waiting => ({
    retry: {budgetMs: 60_000, initialDelayMs: 10, maxDelayMs: 100, sleep: async (ms) => {
      waited += ms;
      slept += ms;
    }, random: () => 0},
    deadline: Date.now() + 600_000,
    onProgress: (line) => progress.push(line),
    onNote: (line) => notes.push(line),
    signal: new AbortController().signal,
    ...extra,
  });
  return {cloud, reads, notes, progress, wait};
}
const started = {operation: OPERATION, execution: {name: NAME}};
/** Every read after the first came at least a floor after the one before. */
const paced = (reads: Array<{at: number}>) => reads.slice(1).every((r, i) => r.at - reads[i].at >= READ_FLOOR_MS - 20);

describe('the pace of the wait', () => {
  it('reads the execution at its floor once WaitOperation answers at once, without calling it again', async () => {
    const {cloud, reads, notes, progress, wait} = scripted({executions: [running, running, running, succeeded]});
    const finished = await waitForExecution(cloud, started, wait());
    assert.equal(finished, succeeded);
    assert.deepEqual(reads.map((r) => r.read), ['WaitOperation', 'GetExecution', 'GetExecution', 'GetExecution', 'GetExecution']);
    assert.ok(paced(reads), JSON.stringify(reads));
    assert.deepEqual(progress, ['0 / 1 complete, 1 running']);
    assert.match(notes[0], /^WaitOperation \S+ answered before its timeout; reading execution \S+ every 3\.1 s instead\.$/);
  });

  it('falls back to reading the execution when WaitOperation fails for good, rather than give up', async () => {
    const {cloud, reads, notes, wait} = scripted({waitOperation: () => Promise.reject(rpcError(Status.PERMISSION_DENIED)), executions: [running, succeeded]});
    assert.equal(await waitForExecution(cloud, started, wait()), succeeded);
    assert.deepEqual(reads.map((r) => r.read), ['WaitOperation', 'GetExecution', 'GetExecution']);
    assert.ok(paced(reads));
    assert.match(notes[0], /^WaitOperation \S+ failed \(WaitOperation .*run\.operations\.get.*\); reading execution/);
  });

  it('tries WaitOperation again after a transient error, between reads of the execution, and reads completion at once', async () => {
    const answers = [Promise.reject(rpcError(Status.UNAVAILABLE)), Promise.resolve({done: true})];
    answers[0].catch(() => undefined);
    const {cloud, reads, wait} = scripted({waitOperation: () => answers.shift() as Promise<Operation>, executions: [running, succeeded]});
    assert.equal(await waitForExecution(cloud, started, wait()), succeeded);
    assert.deepEqual(reads.map((r) => r.read), ['WaitOperation', 'GetExecution', 'WaitOperation', 'GetExecution']);
    assert.ok(paced(reads.slice(0, 3)));
    assert.equal(reads[3].waitedMs, 0, 'the read after the operation is done goes at once');
  });

  it('reads the execution, in its turn, when woken during a long poll, and ends the long poll once it has finished', async () => {
    const wake = new Wake();
    let pollSignal: AbortSignal | undefined;
    const {cloud, reads, wait} = scripted({
      waitOperation: (signal) => {
        pollSignal = signal;
        return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(rpcError(Status.CANCELLED))));
      },
      executions: [succeeded],
    });
    const finished = waitForExecution(cloud, started, wait({wake}));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(reads.map((r) => r.read), ['WaitOperation'], 'the long poll holds');
    wake.fire();
    assert.equal(await finished, succeeded);
    assert.deepEqual(reads.map((r) => r.read), ['WaitOperation', 'GetExecution']);
    assert.ok(paced(reads), 'the wake-up read waited its turn');
    assert.equal(pollSignal?.aborted, true, 'the long poll was ended');
  });

  it('keeps reading at its floor once woken, until the execution shows finished, even when woken before the long poll', async () => {
    const wake = new Wake();
    wake.fire();
    const {cloud, reads, wait} = scripted({
      waitOperation: (signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(rpcError(Status.CANCELLED)))),
      executions: [running, running, succeeded],
    });
    assert.equal(await waitForExecution(cloud, started, wait({wake})), succeeded);
    assert.deepEqual(reads.map((r) => r.read), ['WaitOperation', 'GetExecution', 'GetExecution', 'GetExecution']);
    assert.ok(paced(reads), 'every read waited its turn');
  });

  it('polls again at once after a long poll that held to its timeout, and reads progress during the next one', async () => {
    let progressRead: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (progressRead = resolve));
    const polls = [
      () => new Promise<Operation>((resolve) => setTimeout(() => resolve({done: false}), READ_FLOOR_MS + 100)),
      () => read.then(() => ({done: true})),
    ];
    const executions = [running, succeeded];
    const {cloud, reads, progress, wait} = scripted({waitOperation: () => (polls.shift() as () => Promise<Operation>)(), executions, onGetExecution: () => progressRead()});
    assert.equal(await waitForExecution(cloud, started, wait()), succeeded);
    assert.deepEqual(reads.map((r) => r.read), ['WaitOperation', 'WaitOperation', 'GetExecution', 'GetExecution']);
    assert.equal(reads[1].waitedMs, 0, 'the next long poll starts at once');
    assert.ok(paced(reads.slice(1, 3)), 'the progress read waits its turn');
    assert.deepEqual(progress, ['0 / 1 complete, 1 running']);
    assert.equal(reads[3].waitedMs, 0, 'the read after the operation is done goes at once');
  });

  it('paces a job write\'s operation too, and reads it with GetOperation when WaitOperation does not exist', async () => {
    const polls = [Promise.resolve({done: false}), Promise.reject(rpcError(Status.UNIMPLEMENTED))];
    polls[1].catch(() => undefined);
    const {cloud, reads, wait} = scripted({waitOperation: () => polls.shift() as Promise<Operation>, executions: [], getOperation: () => Promise.resolve({done: true})});
    assert.equal(await awaitJobOperation(cloud, {name: OPERATION, done: false}, wait()), undefined);
    assert.deepEqual(reads.map((r) => r.read), ['WaitOperation', 'WaitOperation', 'GetOperation']);
    assert.ok(paced(reads));
  });
});
