import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import {Status} from 'google-gax';
import type {Emulator} from '../emulator/index.ts';
import {runAction, type ActionRun} from '../scripts/local-runner.ts';
import {callsFor, errorsOf, startTestEmulator} from './support/emulated.ts';

const PROJECT = 'test-project';
const REGION = 'us-central1';
const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate';
const jobPath = (name: string) => `projects/${PROJECT}/locations/${REGION}/jobs/${name}`;
const node = (script: string) => JSON.stringify(['node', '-e', script]);

let emulator: Emulator;

before(async () => {
  emulator = await startTestEmulator();
});

after(() => emulator.stop());

function action(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    inputs: {project_id: PROJECT, region: REGION, ...inputs},
    env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
  });
}

/** A job as a team would have set it up: a migration at v1, a variable and a secret of its own. */
function putMigrateJob(name: string) {
  return emulator.putJob({
    name: jobPath(name),
    template: {
      taskCount: 1,
      parallelism: 1,
      template: {
        maxRetries: 0,
        containers: [
          {
            image: `${IMAGE}:v1`,
            command: ['node', '-e', ''],
            env: [
              {name: 'DB_PASSWORD', value: 'hunter2-but-longer'},
              {name: 'API_TOKEN', valueSource: {secretKeyRef: {secret: 'api-token', version: '3'}}},
            ],
          },
        ],
      },
    },
  }) as any;
}

/** Every call that could change the job or run it. */
const writesAndRuns = (job: string) =>
  ['UpdateJob', 'CreateJob', 'RunJob', 'DeleteJob'].flatMap((method) =>
    callsFor(emulator, method, job).filter((c) => !(c.request.validateOnly ?? c.request.validate_only)),
  );

describe('dry_run: true, run from dist/ against the emulator', () => {
  it('shows what would change in a job, has Cloud Run validate it, and writes, claims and runs nothing', async () => {
    const stored = putMigrateJob('dry-changed');
    const result = await action({
      job: 'dry-changed',
      image: `${IMAGE}:v2`,
      env_vars: 'MIGRATE_TARGET=head',
      secrets: 'API_TOKEN=api-token:4',
      dry_run: 'true',
    });
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.deepEqual(errorsOf(result), []);
    assert.equal(result.outputs.changed, 'true');
    const plan = result.log.find((l) => l.startsWith('Dry run: job dry-changed would be updated: '));
    assert.ok(plan, result.log.join('\n'));
    assert.match(plan, /image us-docker\.pkg\.dev\/test-project\/app\/migrate:v1 → us-docker\.pkg\.dev\/test-project\/app\/migrate:v2/);
    assert.match(plan, /env MIGRATE_TARGET added/);
    assert.match(plan, /env API_TOKEN secret api-token:3 → secret api-token:4/, 'a secret is shown by its reference');
    assert.doesNotMatch(plan, /DB_PASSWORD/, 'a variable that does not change is not listed');
    assert.ok(result.log.some((l) => l.includes('Cloud Run validated the change (UpdateJob with validate_only)')));

    const [validation] = callsFor(emulator, 'UpdateJob', 'dry-changed');
    assert.equal(validation.request.validateOnly ?? validation.request.validate_only, true);
    assert.equal(validation.code, Status.OK);
    assert.equal(callsFor(emulator, 'UpdateJob', 'dry-changed').length, 1);
    assert.deepEqual(writesAndRuns('dry-changed'), [], 'no real write, no claim, no RunJob');
    assert.deepEqual(emulator.executions(jobPath('dry-changed')), []);
    const now = emulator.getJob(jobPath('dry-changed')) as any;
    assert.equal(now.etag, stored.etag, 'the stored job is untouched');
    assert.equal(now.template.template.containers[0].image, `${IMAGE}:v1`);

    assert.match(result.summary, /### Cloud Run job: dry run/);
    assert.match(result.summary, /\| image \| us-docker\.pkg\.dev\/test-project\/app\/migrate:v1 \| us-docker\.pkg\.dev\/test-project\/app\/migrate:v2 \|/);
    assert.match(result.summary, /\| env MIGRATE_TARGET \| – \| head \|/);
    assert.match(result.summary, /Cloud Run validated the change/);
  });

  it('masks a value that looks like a credential in the plan, before and after', async () => {
    putMigrateJob('dry-masked');
    const result = await action({job: 'dry-masked', image: `${IMAGE}:v1`, env_vars: 'DB_PASSWORD=another-long-password', dry_run: 'true'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.ok(result.log.some((l) => /env DB_PASSWORD \*\*\* → \*\*\* \(a new value\)/.test(l)), result.log.join('\n'));
    for (const value of ['hunter2-but-longer', 'another-long-password']) {
      const printed = result.stdout.split('\n').filter((l) => l.includes(value) && !l.startsWith('::add-mask::'));
      assert.deepEqual(printed, [], `${value} is never printed`);
      assert.ok(!result.summary.includes(value), `${value} is not in the summary`);
    }
  });

  it('says so when the job would not change, and sends no write at all', async () => {
    const inputs = {job: 'dry-same', image: `${IMAGE}:v1`, command: node(''), concurrency: 'allow'};
    assert.equal((await action(inputs)).code, 0);
    const writes = callsFor(emulator, 'UpdateJob', 'dry-same').length;
    const result = await action({...inputs, dry_run: 'true'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.changed, 'false');
    assert.ok(result.log.includes('Dry run: job dry-same is up to date; nothing would change. Nothing was run.'), result.log.join('\n'));
    assert.equal(callsFor(emulator, 'UpdateJob', 'dry-same').length, writes);
    assert.equal(callsFor(emulator, 'RunJob', 'dry-same').length, 1, 'only the first, real run ran it');
    assert.match(result.summary, /is up to date; nothing would change/);
  });

  it('shows that a missing job would be created, validated with CreateJob validate_only, and creates nothing', async () => {
    const result = await action({job: 'dry-missing', image: `${IMAGE}:v1`, command: node(''), container: 'migrate', dry_run: 'true'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.changed, 'true');
    const plan = result.log.find((l) => l.startsWith('Dry run: job dry-missing does not exist; it would be created: '));
    assert.ok(plan, result.log.join('\n'));
    assert.match(plan, /image us-docker\.pkg\.dev\/test-project\/app\/migrate:v1/);
    assert.match(plan, /max retries 0/);
    const creates = emulator.callsTo('CreateJob').filter((c) => (c.request.jobId ?? c.request.job_id) === 'dry-missing');
    assert.equal(creates.length, 1);
    assert.equal(creates[0].request.validateOnly ?? creates[0].request.validate_only, true);
    assert.equal(creates[0].request.job.template.template.containers[0].name, 'migrate');
    assert.equal(creates[0].code, Status.OK);
    assert.equal(emulator.getJob(jobPath('dry-missing')), undefined, 'nothing was created');
    assert.equal(callsFor(emulator, 'RunJob', 'dry-missing').length, 0);
  });

  it('fails with one error line carrying the server\'s message when Cloud Run refuses the change', async () => {
    putMigrateJob('dry-refused');
    const message = "template.template.containers[0].image: Image 'us-docker.pkg.dev/test-project/app/migrate:v9' not found.";
    emulator.faults.add({method: 'UpdateJob', code: Status.INVALID_ARGUMENT, message, when: (r) => r.validateOnly && r.job?.name === jobPath('dry-refused')});
    const result = await action({job: 'dry-refused', image: `${IMAGE}:v9`, dry_run: 'true'});
    assert.equal(result.code, 1);
    const errors = errorsOf(result);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.ok(errors[0].includes(message.replace(/\.$/, '')), errors[0]);
    assert.match(errors[0], /^UpdateJob \(validate_only\) projects\/test-project\/locations\/us-central1\/jobs\/dry-refused failed: /);
    assert.ok(result.log.some((l) => l.startsWith('Dry run: job dry-refused would be updated: image ')), 'the plan is shown first');
    assert.match(result.summary, /Cloud Run refused the change/);
    assert.deepEqual(writesAndRuns('dry-refused'), []);
  });

  it('refuses a dry run of a missing job that the run could not create, before any write', async () => {
    const result = await action({job: 'dry-nowhere', dry_run: 'true'});
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [
      'Dry run: job dry-nowhere was not found in project test-project, region us-central1, and without "image" a run would not create it.',
    ]);
    assert.equal(emulator.callsTo('CreateJob').filter((c) => (c.request.jobId ?? c.request.job_id) === 'dry-nowhere').length, 0);
  });

  it('says that a job run as it is would not change, and checks it as the real run would', async () => {
    putMigrateJob('dry-as-is');
    const result = await action({job: 'dry-as-is', args: 'up', dry_run: 'true'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.changed, 'false');
    assert.ok(result.log.includes('Dry run: job dry-as-is would run as it is; nothing in it would change. Nothing was run.'));
    assert.deepEqual(writesAndRuns('dry-as-is'), []);

    emulator.putJob({...putMigrateJob('dry-unsafe'), template: {template: {maxRetries: 3, containers: [{image: `${IMAGE}:v1`}]}}});
    const unsafe = await action({job: 'dry-unsafe', dry_run: 'true'});
    assert.equal(unsafe.code, 1);
    assert.match(errorsOf(unsafe)[0], /^Job dry-unsafe retries a failed task up to 3 times/);
  });

  it('refuses a container the job does not have, as the real run would', async () => {
    putMigrateJob('dry-container');
    const result = await action({job: 'dry-container', container: 'proxy', image: `${IMAGE}:v2`, dry_run: 'true'});
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), ['Input "container" is "proxy", but job dry-container has no container of that name (it has one without a name)']);
    assert.equal(callsFor(emulator, 'UpdateJob', 'dry-container').length, 0, 'not even a validation was sent');
  });

  it('refuses a bad dry_run value naming the input, before any call', async () => {
    const calls = emulator.calls.length;
    const result = await action({job: 'dry-bad', image: `${IMAGE}:v1`, dry_run: 'maybe'});
    assert.equal(result.code, 1);
    assert.equal(errorsOf(result).length, 1);
    assert.match(errorsOf(result)[0], /Input "dry_run"/);
    assert.equal(emulator.calls.length, calls);
  });
});
