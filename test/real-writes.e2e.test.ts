// Job writes as real Cloud Run answers them: a write's operation can fail although the call did
// not, a job read back can carry an execution token, and a claim can be refused.
import assert from 'node:assert/strict';
import {describe, it, type TestContext} from 'node:test';
import {Status} from 'google-gax';
import {startEmulator, type Emulator, type EmulatorOptions} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun} from '../scripts/local-runner.ts';
import {errorsOf} from './support/emulated.ts';

const PROJECT = 'test-project';
const REGION = 'us-central1';
const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate:1';
const MISSING = 'us-docker.pkg.dev/test-project/app/migrate:not-pushed';
const jobPath = (name: string) => `projects/${PROJECT}/locations/${REGION}/jobs/${name}`;
const node = (script: string) => ['node', '-e', script];

/** An emulator of the test's own, with an image registry holding IMAGE only. */
async function registry(t: TestContext, options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({workdir: ROOT, killGraceMs: 200, logBufferMs: 50, images: {[IMAGE]: {}}, ...options});
  t.after(() => emulator.stop());
  return emulator;
}

function action(emulator: Emulator, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({inputs: {project_id: PROJECT, region: REGION, ...inputs}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});
}

function assertNoStackTrace(result: ActionRun) {
  assert.doesNotMatch(result.log.join('\n'), /^\s+at .+\(.+:\d+:\d+\)$/m, 'no stack trace in the log');
  assert.equal(result.stderr.trim(), '', 'nothing on stderr');
}

const pushAdvice =
  'Push the image before this step, with the same reference, and give the job\'s Cloud Run service agent read access to ' +
  'its repository (roles/artifactregistry.reader). The job now names this image; nothing was run.';

describe('job writes, as real Cloud Run answers them', () => {
  it('fails a create naming an image that was not pushed with one error line, one write and no run', async (t) => {
    const emulator = await registry(t);
    const result = await action(emulator, {job: 'not-pushed', image: MISSING, command: JSON.stringify(node(''))});
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [`CreateJob ${jobPath('not-pushed')} failed: Image '${MISSING}' not found. ${pushAdvice}`]);
    assert.equal(emulator.callsTo('CreateJob').length, 1, 'the write is not retried');
    assert.equal(emulator.callsTo('UpdateJob').length, 0);
    assert.equal(emulator.callsTo('RunJob').length, 0);
    assert.ok(!result.log.some((line) => /deleted meanwhile|looking at it again/.test(line)), result.log.join('\n'));
    assert.equal((emulator.getJob(jobPath('not-pushed')) as any).template.template.containers[0].image, MISSING, 'the write was kept');
    assertNoStackTrace(result);
  });

  it('fails an update to an image that was not pushed the same way, never reading it as a deleted job', async (t) => {
    const emulator = await registry(t);
    const first = await action(emulator, {job: 'bumped', image: IMAGE, command: JSON.stringify(node(''))});
    assert.equal(first.code, 0, first.log.join('\n'));
    const result = await action(emulator, {job: 'bumped', image: MISSING, command: JSON.stringify(node(''))});
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [`UpdateJob ${jobPath('bumped')} failed: Image '${MISSING}' not found. ${pushAdvice}`]);
    assert.equal(emulator.callsTo('UpdateJob').length, 1, 'one write, not a loop of them');
    assert.equal(emulator.callsTo('RunJob').length, 1, 'only the first run ran');
    assertNoStackTrace(result);
  });

  it('writes again at most once when the answers to its writes are lost', async (t) => {
    const emulator = await registry(t);
    emulator.faults.add({method: 'CreateJob', code: Status.UNAVAILABLE, message: 'Connection reset by peer', times: Infinity});
    const result = await action(emulator, {job: 'lost', image: IMAGE, command: JSON.stringify(node(''))});
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [`CreateJob ${jobPath('lost')} failed: Connection reset by peer. Cloud Run could not be reached.`]);
    assert.equal(emulator.callsTo('CreateJob').length, 2);
    assert.ok(result.log.includes('The answer to CreateJob was lost; looking at job lost again.'));
    assert.equal(emulator.callsTo('RunJob').length, 0);
  });

  it('gives up with one error line, and no run, when every write is refused as a conflict, pausing between them', async (t) => {
    const emulator = await registry(t);
    assert.equal((await action(emulator, {job: 'unsettled', image: IMAGE, command: JSON.stringify(node(''))})).code, 0);
    emulator.faults.add({method: 'UpdateJob', code: Status.ABORTED, message: 'The job is being reconciled.', times: Infinity});
    const result = await action(emulator, {job: 'unsettled', image: IMAGE, command: JSON.stringify(node('console.log(2)'))});
    assert.equal(result.code, 1);
    const [error, ...others] = errorsOf(result);
    assert.deepEqual(others, []);
    assert.match(error, /^UpdateJob \S+\/jobs\/unsettled was refused 6 times in a row as the job kept changing \(.*The job is being reconciled.*\)\. .*Nothing was run\.$/);
    const writes = emulator.callsTo('UpdateJob');
    assert.equal(writes.length, 6);
    assert.ok(writes.slice(2).every((w, i) => w.at > writes[i + 1].at), 'one write at a time');
    assert.equal(emulator.callsTo('RunJob').length, 1, 'only the first run ran');
    assertNoStackTrace(result);
  });

  it('never sends back the execution token of a job it updates, so no extra execution runs', async (t) => {
    const emulator = await registry(t);
    emulator.putJob({
      name: jobPath('tokened'),
      startExecutionToken: 'deploy-1',
      template: {template: {maxRetries: 0, containers: [{image: IMAGE, command: node('')}]}},
    });
    const result = await action(emulator, {job: 'tokened', image: IMAGE, command: JSON.stringify(node('console.log("migrated")'))});
    assert.equal(result.code, 0, result.log.join('\n'));
    const [update] = emulator.callsTo('UpdateJob');
    assert.equal(emulator.callsTo('UpdateJob').length, 1);
    assert.equal(update.request.job.startExecutionToken ?? '', '');
    assert.equal(update.request.job.runExecutionToken ?? '', '');
    assert.equal(emulator.executions(jobPath('tokened')).length, 2, "the token's own execution and this run's, no other");
  });

  it('never sends back the execution token of a job it only claims, run as it is', async (t) => {
    const emulator = await registry(t);
    emulator.putJob({
      name: jobPath('tokened-as-is'),
      runExecutionToken: 'deploy-2',
      template: {template: {maxRetries: 0, containers: [{image: IMAGE, command: node('')}]}},
    });
    const result = await action(emulator, {job: 'tokened-as-is'});
    assert.equal(result.code, 0, result.log.join('\n'));
    const claims = emulator.callsTo('UpdateJob');
    assert.equal(claims.length, 1);
    assert.ok(claims[0].request.job.annotations['cloud-run-migrate/claim'], 'the write is the claim');
    assert.equal(claims[0].request.job.runExecutionToken ?? '', '');
    assert.equal(claims[0].request.job.startExecutionToken ?? '', '');
    assert.equal(emulator.executions(jobPath('tokened-as-is')).length, 2);
  });

  it('says once which permissions a claim needs when it is refused, however often the run looks again', async (t) => {
    const emulator = await registry(t);
    emulator.denyPermission('run.jobs.update');
    emulator.putJob({name: jobPath('unclaimable'), template: {template: {maxRetries: 0, containers: [{image: IMAGE, command: node('')}]}}});
    // Another run writes the job between this run's look and its start: RunJob refuses the etag.
    emulator.faults.add({method: 'RunJob', code: Status.ABORTED, message: 'The etag does not match.'});
    const result = await action(emulator, {job: 'unclaimable'});
    assert.equal(result.code, 0, result.log.join('\n'));
    const said = result.log.filter((line) => line.startsWith('Job unclaimable cannot be claimed'));
    assert.deepEqual(said, [
      'Job unclaimable cannot be claimed for this run (run.jobs.update was denied): writing its claim needs run.jobs.update and ' +
        "Service Account User (iam.serviceAccounts.actAs) on the job's runtime service account. Only running executions were checked.",
    ]);
    assert.equal(emulator.callsTo('RunJob').length, 2, 'the run looked again');
    assert.equal(emulator.callsTo('UpdateJob').length, 1, 'the refused claim was not asked again');
  });
});
