import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import {startEmulator, type Emulator} from '../emulator/index.ts';
import {ROOT, runAction} from '../scripts/local-runner.ts';
import {callsFor, errorsOf, startTestEmulator} from './support/emulated.ts';

const PROJECT = 'concurrency-project';
const IMAGE = 'us-docker.pkg.dev/concurrency-project/app/migrate:1';
const jobPath = (name: string) => `projects/${PROJECT}/locations/us-central1/jobs/${name}`;
const sleeper = (ms: number) => ['node', '-e', `console.log("migrating"); setTimeout(() => console.log("done"), ${ms})`];

let emulator: Emulator;
before(async () => {
  emulator = await startTestEmulator();
});
after(() => emulator.stop());

const ms = (t: {seconds: string | number; nanos?: number}) => Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;
type Stored = {name: string; createTime: {seconds: string}; startTime?: {seconds: string; nanos: number}; completionTime?: {seconds: string; nanos: number}; conditions: Array<{type: string; executionReason?: string}>};
const executionsOf = (job: string) => emulator.executions(jobPath(job)) as Stored[];

/** A job whose run lasts RUN_MS milliseconds, 0 unless its execution says otherwise. */
const TIMED = ['node', '-e', 'console.log("migrating"); setTimeout(() => console.log("done"), Number(process.env.RUN_MS ?? 0))'];

/** A job someone else created and is running right now (gcloud, the console, another repository). */
function runningElsewhere(job: string, runMs: number): string {
  emulator.putJob({name: jobPath(job), template: {template: {maxRetries: 0, containers: [{image: IMAGE, command: TIMED}]}}});
  return emulator.startExecution(jobPath(job), {containerOverrides: [{env: [{name: 'RUN_MS', value: String(runMs)}]}]});
}

const action = (inputs: Record<string, string>) =>
  runAction({inputs: {project_id: PROJECT, ...inputs}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});

describe('another execution of the job is running', () => {
  it('waits for it to finish, naming it, then runs (concurrency: wait, the default)', async () => {
    const other = runningElsewhere('busy-wait', 1500);
    const result = await action({job: 'busy-wait'});
    assert.equal(result.code, 0, result.log.join('\n'));
    const otherId = other.split('/').pop();
    assert.ok(result.log.includes(`Execution ${otherId} of job busy-wait is still running; waiting for it to finish before starting this one (concurrency: wait).`));
    const [ours, theirs] = executionsOf('busy-wait');
    assert.equal(theirs.name, other);
    assert.ok(ms(ours.createTime) >= ms(theirs.completionTime as Stored['createTime']), 'ours started after theirs ended');
  });

  it('fails naming it, and runs nothing (concurrency: fail)', async () => {
    const other = runningElsewhere('busy-fail', 3000);
    const result = await action({job: 'busy-fail', concurrency: 'fail'});
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [
      `Execution ${other.split('/').pop()} of job busy-fail is still running, and concurrency: fail refuses to start another. Nothing was run.`,
    ]);
    assert.equal(callsFor(emulator, 'RunJob', 'busy-fail').length, 0);
  });

  it('cancels it, then runs (concurrency: cancel)', async () => {
    const other = runningElsewhere('busy-cancel', 30_000);
    const result = await action({job: 'busy-cancel', concurrency: 'cancel'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.deepEqual(callsFor(emulator, 'CancelExecution', 'busy-cancel').map((c) => c.request.name), [other]);
    const theirs = executionsOf('busy-cancel').find((e) => e.name === other) as Stored;
    assert.equal(theirs.conditions.find((c) => c.type === 'Completed')?.executionReason, 'CANCELLED');
  });

  it('runs alongside it without looking (concurrency: allow)', async () => {
    runningElsewhere('busy-allow', 3000);
    const result = await action({job: 'busy-allow', concurrency: 'allow'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(callsFor(emulator, 'ListExecutions', 'busy-allow').length, 0);
    assert.equal(callsFor(emulator, 'UpdateJob', 'busy-allow').length, 0, 'nothing claimed');
  });

  it('still checks for running executions when the job cannot be claimed', async () => {
    const strict = await startEmulator({workdir: ROOT});
    strict.denyPermission('run.jobs.update');
    try {
      strict.putJob({name: jobPath('no-claim'), template: {template: {maxRetries: 0, containers: [{image: IMAGE, command: TIMED}]}}});
      const result = await runAction({inputs: {project_id: PROJECT, job: 'no-claim'}, env: {CLOUD_RUN_EMULATOR_HOST: strict.address}});
      assert.equal(result.code, 0, result.log.join('\n'));
      assert.ok(
        result.log.includes(
          'Job no-claim cannot be claimed for this run (run.jobs.update was denied): writing its claim needs run.jobs.update and ' +
            "Service Account User (iam.serviceAccounts.actAs) on the job's runtime service account. Only running executions were checked.",
        ),
        result.log.join('\n'),
      );
      assert.equal(strict.callsTo('ListExecutions').length, 1);
    } finally {
      await strict.stop();
    }
  });
});

describe('several runs started at the same instant', () => {
  it('create a missing job once: the run whose create lost waits for the execution of the one that won', async () => {
    // The first run's CreateJob is held, so the second run also finds the job missing and
    // creates it first; the first one's create then finds the job there.
    const isCreate = (r: {jobId?: string}) => r.jobId === 'both-create';
    emulator.faults.add({method: 'CreateJob', delayMs: 5000, when: isCreate});
    const inputs = {job: 'both-create', image: IMAGE, command: JSON.stringify(sleeper(500))};
    const loser = action(inputs);
    while (!emulator.callsTo('CreateJob').some((c) => isCreate(c.request))) await new Promise((resolve) => setTimeout(resolve, 20));
    const results = await Promise.all([loser, action(inputs)]);
    for (const result of results) assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(emulator.callsTo('CreateJob').filter((c) => isCreate(c.request)).length, 2, 'both runs tried to create the job');
    assert.ok(results[0].log.includes('Job both-create was written by another run meanwhile; looking at it again.'));
    const [first, second] = executionsOf('both-create')
      .map((e) => [ms(e.createTime), ms(e.completionTime as Stored['createTime'])])
      .sort((a, b) => a[0] - b[0]);
    assert.ok(second[0] >= first[1], 'the second execution started after the first ended');
  });

  it('run one at a time, each reporting the execution it started (ten copies, concurrency: wait)', {timeout: 120_000}, async () => {
    const inputs = {job: 'stampede', image: IMAGE, command: JSON.stringify(sleeper(200))};
    const results = await Promise.all(Array.from({length: 10}, () => action(inputs)));
    for (const result of results) assert.equal(result.code, 0, result.log.join('\n'));
    const reported = results.map((r) => r.outputs.execution);
    assert.equal(new Set(reported).size, 10, 'ten distinct executions');
    const executions = executionsOf('stampede');
    assert.deepEqual(executions.map((e) => e.name).sort(), [...reported].sort(), 'each run reports the one it started');
    const spans = executions
      .map((e) => [ms(e.createTime), ms(e.completionTime as Stored['createTime'])])
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      assert.ok(spans[i][0] >= spans[i - 1][1], `execution ${i} started before execution ${i - 1} ended`);
    }
  });
});
