import assert from 'node:assert/strict';
import {setTimeout as sleep} from 'node:timers/promises';
import {after, before, describe, it} from 'node:test';
import type {Emulator} from '../emulator/index.ts';
import {CloudRun, clientOptions} from '../src/clients.ts';
import {cancelExecution, startExecution, waitForExecution, WaitDeadline, type Waiting} from '../src/execution.ts';
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
