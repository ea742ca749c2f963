import assert from 'node:assert/strict';
import {after, before, describe, it, type TestContext} from 'node:test';
import {v2 as run} from '@google-cloud/run';
import {grpc, Status} from 'google-gax';
import {startEmulator, type Emulator} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun} from '../scripts/local-runner.ts';
import {callsFor, errorsOf, startTestEmulator} from './support/emulated.ts';

const PROJECT = 'test-project';
const REGION = 'us-central1';
const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate:1';
const jobPath = (name: string) => `projects/${PROJECT}/locations/${REGION}/jobs/${name}`;

/** A container command that runs a short Node script, the job's "migration". */
const node = (script: string) => JSON.stringify(['node', '-e', script]);

let emulator: Emulator;
let executions: run.ExecutionsClient;

before(async () => {
  emulator = await startTestEmulator();
  executions = new run.ExecutionsClient({
    apiEndpoint: '127.0.0.1',
    port: emulator.port,
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
});

after(async () => {
  await executions.close();
  await emulator.stop();
});

/** A run of job `job` against an emulator of its own, on which the identity lacks `permission`. */
async function runDenied(t: TestContext, permission: string, job: string): Promise<{emulator: Emulator; result: ActionRun}> {
  const emulator = await startEmulator({workdir: ROOT});
  t.after(() => emulator.stop());
  emulator.denyPermission(permission);
  const result = await runAction({
    inputs: {job, project_id: PROJECT, image: IMAGE, command: node('')},
    env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
  });
  return {emulator, result};
}

function action(inputs: Record<string, string>, options: Partial<Parameters<typeof runAction>[0]> = {}): Promise<ActionRun> {
  return runAction({
    ...options,
    inputs: {project_id: PROJECT, region: REGION, ...inputs},
    env: {CLOUD_RUN_EMULATOR_HOST: emulator.address, ...options.env},
  });
}



function assertNoStackTrace(result: ActionRun) {
  assert.doesNotMatch(result.log.join('\n'), /^\s+at .+\(.+:\d+:\d+\)$/m, 'no stack trace in the log');
  assert.equal(result.stderr.trim(), '', 'nothing on stderr');
}

describe('the action, run from dist/ against the emulator', () => {
  it('creates a missing job with no retries, one task, and runs it once to success', async () => {
    const result = await action({job: 'create-me', image: IMAGE, command: node('console.log("migrated")')});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.deepEqual(errorsOf(result), []);
    assert.equal(result.outputs.status, 'succeeded');
    assert.equal(result.outputs.exit_code, '0');
    assert.match(result.outputs.execution, /^projects\/test-project\/locations\/us-central1\/jobs\/create-me\/executions\/create-me-[a-z0-9]{5}$/);
    assert.equal(result.outputs.execution_id, result.outputs.execution.split('/').pop());
    assert.match(result.outputs.log_url, /^https:\/\/console\.cloud\.google\.com\/logs\//);
    assert.match(result.outputs.duration, /^\d+(\.\d)?$/);
    assert.equal(result.outputs.succeeded_count, '1');
    assert.equal(result.outputs.failed_count, '0');
    assert.ok(result.log.includes('Creating job create-me...'));
    assert.ok(result.log.includes(`Started execution ${result.outputs.execution_id} of job create-me.`));
    assert.ok(result.log.some((l) => l.startsWith('Console: https://console.cloud.google.com/run/jobs/executions/details/us-central1/')));
    assert.ok(result.log.some((l) => l.startsWith(`Execution ${result.outputs.execution_id} succeeded in `)));
    assert.match(result.summary, /\| Status \| ✅ succeeded \|/);
    assert.match(result.summary, new RegExp(`\\| Image \\| \`${IMAGE}\` \\|`));

    const creates = emulator.callsTo('CreateJob').filter((c) => (c.request.jobId ?? c.request.job_id) === 'create-me');
    assert.equal(creates.length, 1, 'created with CreateJob, which fails if another run created it first');
    assert.equal(callsFor(emulator, 'UpdateJob', 'create-me').length, 0);
    assert.equal(callsFor(emulator, 'RunJob', 'create-me').length, 1);
    const job = emulator.getJob(jobPath('create-me')) as any;
    assert.equal(job.template.taskCount ?? job.template.task_count, 1);
    assert.equal(job.template.parallelism, 1);
    assert.equal(job.template.template.maxRetries ?? job.template.template.max_retries, 0);
    assertNoStackTrace(result);
  });

  it('updates an existing job and keeps what someone else configured in it', async () => {
    emulator.putJob({
      name: jobPath('keep-others'),
      labels: {owner: 'platform'},
      template: {
        template: {
          containers: [{image: 'old-image', env: [{name: 'OTHER', value: 'kept'}], volumeMounts: [{name: 'certs', mountPath: '/certs'}]}],
          volumes: [{name: 'certs', emptyDir: {}}],
          vpcAccess: {connector: `projects/${PROJECT}/locations/${REGION}/connectors/conn`, egress: 'ALL_TRAFFIC'},
          maxRetries: 3,
        },
      },
    });
    const result = await action({
      job: 'keep-others',
      image: IMAGE,
      command: node('process.exit(process.env.OTHER === "kept" && process.env.MINE === "set" ? 0 : 9)'),
      env_vars: 'MINE=set',
      labels: 'team=db',
    });
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.ok(result.log.includes('Updating job keep-others...'));
    const job = emulator.getJob(jobPath('keep-others')) as any;
    const task = job.template.template;
    assert.equal(task.containers[0].image, IMAGE);
    assert.deepEqual(task.volumes.map((v: any) => v.name), ['certs']);
    assert.equal(task.vpcAccess?.connector ?? task.vpc_access?.connector, `projects/${PROJECT}/locations/${REGION}/connectors/conn`);
    assert.deepEqual(task.containers[0].env.map((e: any) => e.name), ['OTHER', 'MINE']);
    assert.deepEqual({...job.labels}, {owner: 'platform', team: 'db'});
    assert.equal(task.maxRetries ?? task.max_retries, 0, 'the unsafe default of 3 retries is replaced');
    const [update] = callsFor(emulator, 'UpdateJob', 'keep-others');
    assert.ok(update.request.job.etag, 'the update carries the etag it read');
  });

  it('does not update a job that already holds what the inputs ask for (concurrency: allow)', async () => {
    const inputs = {job: 'unchanged', image: IMAGE, command: node(''), timeout: '5m', concurrency: 'allow'};
    assert.equal((await action(inputs)).code, 0);
    const second = await action(inputs);
    assert.equal(second.code, 0, second.log.join('\n'));
    assert.ok(second.log.includes('Job unchanged is up to date.'));
    const creates = emulator.callsTo('CreateJob').filter((c) => (c.request.jobId ?? c.request.job_id) === 'unchanged');
    assert.equal(creates.length + callsFor(emulator, 'UpdateJob', 'unchanged').length, 1, 'only the first run wrote the job');
    assert.equal(callsFor(emulator, 'RunJob', 'unchanged').length, 2);
  });

  it('writes only its claim to a job that already holds what the inputs ask for', async () => {
    const inputs = {job: 'claimed', image: IMAGE, command: node(''), timeout: '5m'};
    assert.equal((await action(inputs)).code, 0);
    const before = (emulator.getJob(jobPath('claimed')) as any).template;
    const second = await action(inputs);
    assert.equal(second.code, 0, second.log.join('\n'));
    assert.ok(second.log.includes('Job claimed is up to date.'));
    const job = emulator.getJob(jobPath('claimed')) as any;
    const spec = (t: any) => [t.taskCount, t.template.maxRetries, String(t.template.timeout.seconds), t.template.containers[0].image, t.template.containers[0].command];
    assert.deepEqual(spec(job.template), spec(before), 'the spec is untouched');
    assert.match(job.annotations['cloud-run-migrate/claim'], /^\{"holder":".+","at":\d+\}$/);
  });

  it('runs an existing job as it is, with args, env_vars and timeout as overrides of that run', async () => {
    emulator.putJob({
      name: jobPath('as-is'),
      template: {template: {containers: [{image: IMAGE, command: ['node', '-e', 'process.exit(process.argv[1] === "up" && process.env.STAGE === "prod" ? 0 : 4)']}], maxRetries: 0}},
    });
    const result = await action({job: 'as-is', args: 'up', env_vars: 'STAGE=prod', timeout: '2m'});
    assert.equal(result.code, 0, result.log.join('\n'));
    const [claim] = callsFor(emulator, 'UpdateJob', 'as-is');
    assert.deepEqual(claim.request.job.template.template.containers[0].command.slice(0, 2), ['node', '-e'], 'only the claim was written');
    assert.equal(claim.request.job.template.template.containers[0].args?.length ?? 0, 0);
    const [runCall] = callsFor(emulator, 'RunJob', 'as-is');
    const overrides = runCall.request.overrides;
    assert.deepEqual(overrides.containerOverrides[0].args, ['up']);
    assert.deepEqual(overrides.containerOverrides[0].env.map((e: any) => [e.name, e.value]), [['STAGE', 'prod']]);
    assert.equal(String(overrides.timeout.seconds), '120');
  });

  it('fails the step with the exit code when the migration exits non-zero', async () => {
    const result = await action({job: 'exits-three', image: IMAGE, command: node('console.error("relation exists"); process.exit(3)')});
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'failed');
    assert.equal(result.outputs.exit_code, '3');
    assert.equal(result.outputs.failed_count, '1');
    const id = result.outputs.execution_id;
    assert.deepEqual(errorsOf(result), [
      `Execution ${id} of job exits-three failed after ${result.outputs.duration} s: the container exited with code 3: The container exited with an error. Logs: ${result.outputs.log_url}`,
    ]);
    assert.equal(emulator.callsTo('ListTasks').filter((c) => JSON.stringify(c.request).includes(id)).length, 1);
    assert.match(result.summary, /❌ failed/);
    assert.match(result.summary, /\| Exit code \| 3 \|/);
    assertNoStackTrace(result);
  });

  it('reports timed_out when the task runs past its timeout', async () => {
    const result = await action({job: 'too-slow', image: IMAGE, command: node('setTimeout(() => {}, 60000)'), timeout: '1s'});
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'timed_out');
    assert.equal(result.outputs.exit_code, undefined);
    assert.match(errorsOf(result)[0], /^Execution too-slow-\w{5} of job too-slow timed out after [\d.]+ s: the container ran past the task timeout of 1 s: /);
  });

  it('reports cancelled, never success, when the execution is cancelled by someone else', async () => {
    let cancelled: Promise<unknown> | undefined;
    const result = await action(
      {job: 'cancelled-elsewhere', image: IMAGE, command: node('setTimeout(() => {}, 60000)')},
      {
        onLine: (line) => {
          if (!cancelled && line.startsWith('Started execution')) {
            const execution = emulator.executions(jobPath('cancelled-elsewhere'))[0] as {name: string};
            cancelled = executions.cancelExecution({name: execution.name});
          }
        },
      },
    );
    await cancelled;
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'cancelled');
    assert.match(errorsOf(result)[0], /of job cancelled-elsewhere was cancelled/);
  });

  it('fails with the image named, and runs nothing, when the image does not exist', async () => {
    const strict = await startEmulator({workdir: ROOT, images: {[IMAGE]: {command: ['node', '-e', '']}}});
    try {
      const result = await runAction({
        inputs: {job: 'no-image', project_id: PROJECT, image: `${IMAGE}-missing`},
        env: {CLOUD_RUN_EMULATOR_HOST: strict.address},
      });
      assert.equal(result.code, 1);
      assert.equal(result.outputs.status, 'failed');
      assert.equal(errorsOf(result).length, 1);
      assert.match(errorsOf(result)[0], /^CreateJob .*\/jobs\/no-image failed: Image '.*migrate:1-missing' not found\. Push the image before this step/);
      assert.equal(strict.callsTo('RunJob').length, 0);
    } finally {
      await strict.stop();
    }
  });

  it('names the missing permission and the role that grants it on PERMISSION_DENIED', async (t) => {
    const {emulator: strict, result} = await runDenied(t, 'run.jobs.run', 'denied');
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [
      `RunJob ${jobPath('denied')} failed: Permission 'run.jobs.run' denied on resource '${jobPath('denied')}' (or resource may not exist). ` +
        "The workflow's identity lacks the permission run.jobs.run: grant it roles/run.invoker.",
    ]);
    assert.equal(strict.callsTo('RunJob').length, 1, 'RunJob is not retried');
    assert.equal(strict.executions().length, 0);
    assertNoStackTrace(result);
  });

  it('names run.jobs.create and its role when the identity may not create the job', async (t) => {
    const {emulator: strict, result} = await runDenied(t, 'run.jobs.create', 'no-create');
    assert.equal(result.code, 1);
    const [error] = errorsOf(result);
    assert.match(error, /^CreateJob projects\/[^ ]+\/jobs\/no-create failed: /);
    assert.ok(error.endsWith("The workflow's identity lacks the permission run.jobs.create: grant it roles/run.developer."), error);
    assert.equal(strict.callsTo('RunJob').length, 0);
    assertNoStackTrace(result);
  });

  it('names the project, region and job when the job does not exist and no image is given', async () => {
    const result = await action({job: 'nowhere'});
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [
      `Job nowhere was not found in project ${PROJECT}, region ${REGION}. Set "image" to create it, or check project_id and region.`,
    ]);
    assert.equal(callsFor(emulator, 'RunJob', 'nowhere').length, 0);
  });

  it('refuses bad input before calling Cloud Run at all', async () => {
    const before = emulator.calls.length;
    for (const [inputs, message] of [
      [{job: 'Bad_Name'}, /^Input "job" must be a job name/],
      [{job: 'bad-env', image: IMAGE, env_vars: 'NOEQUALS'}, /^Input "env_vars" entry 1 is not KEY=VALUE/],
      [{job: 'bad-args', image: IMAGE, args: '["unclosed"'}, /^Input "args" is not a valid JSON array/],
      [{job: 'bad-timeout', image: IMAGE, timeout: '10 minutes'}, /^Input "timeout" must be a duration/],
      [{job: 'bad-wait', image: IMAGE, wait: 'yes'}, /^Input "wait" must be true or false/],
      [{job: 'bad-label', image: IMAGE, labels: 'run.googleapis.com/x=1'}, /reserves/],
    ] as const) {
      const result = await action(inputs);
      assert.equal(result.code, 1);
      assert.equal(errorsOf(result).length, 1);
      assert.match(errorsOf(result)[0], message);
      assertNoStackTrace(result);
    }
    assert.equal(emulator.calls.length, before, 'no call reached the emulator');
  });

  it('returns as soon as the execution exists with wait: false', async () => {
    const result = await action({job: 'no-wait', image: IMAGE, command: node('setTimeout(() => {}, 2000)'), wait: 'false'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'started');
    assert.match(result.outputs.execution, /\/executions\/no-wait-\w{5}$/);
    assert.equal(callsFor(emulator, 'GetExecution', 'no-wait').length, 0);
  });

  it('rides out transient errors while waiting', async () => {
    emulator.faults.add({method: 'GetExecution', code: Status.UNAVAILABLE, times: 2});
    const result = await action({job: 'flaky', image: IMAGE, command: node('setTimeout(() => {}, 300)')});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'succeeded');
  });

  it('fails saying the state is unknown, never succeeding, when the execution cannot be read', async () => {
    emulator.faults.add({method: 'GetExecution', code: Status.PERMISSION_DENIED, message: "Permission 'run.executions.get' denied", times: 1});
    const result = await action({job: 'unreadable', image: IMAGE, command: node('')});
    assert.equal(result.code, 1);
    assert.match(errorsOf(result)[0], /^The state of execution .*unreadable-\w{5} cannot be known .*run\.executions\.get.*\)\. Execution unreadable-\w{5} was left running\. Console: https:\/\/\S+$/);
    assert.notEqual(result.outputs.status, 'succeeded');
  });

  it('says to add the auth step when there are no credentials at all', async () => {
    const result = await runAction({
      inputs: {job: 'no-credentials', project_id: PROJECT, image: IMAGE},
      // No emulator, no credentials file, and no metadata server to ask.
      env: {HOME: '/nonexistent', METADATA_SERVER_DETECTION: 'none'},
    });
    assert.equal(result.code, 1);
    assert.deepEqual(errorsOf(result), [
      'No Google Cloud credentials were found. Add a google-github-actions/auth step before this one (with "permissions: id-token: write" on the job), or set GOOGLE_APPLICATION_CREDENTIALS.',
    ]);
    assertNoStackTrace(result);
  });

  it('prints no secret, debug logging included, even when the run fails', async () => {
    const secret = 'pw-5f8a1c93e7d2-sentinel';
    const result = await action(
      {job: 'debug-secret', image: IMAGE, command: node('console.log(process.env.DB_PASSWORD); process.exit(1)'), env_vars: `DB_PASSWORD=${secret}`},
      {env: {ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1'}},
    );
    assert.equal(result.code, 1);
    const leaks = result.stdout.split('\n').filter((line) => line.includes(secret) && !line.startsWith('::add-mask::'));
    assert.ok(result.masks.includes(secret), 'masked before anything was printed');
    assert.ok(result.stdout.indexOf(`::add-mask::${secret}`) < result.stdout.indexOf('Started execution'));
    assert.ok(!result.log.join('\n').includes(secret), 'the log shows *** where the job printed it');
    assert.ok(leaks.every((line) => !line.startsWith('::debug::')), 'no debug line carries it');
  });

  it('masks env_vars values that look like credentials', async () => {
    const result = await action({
      job: 'masked',
      image: IMAGE,
      command: node('console.log("ok")'),
      env_vars: 'DB_PASSWORD=hunter2-hunter2\nDATABASE_URL=postgres://app:s3cr3t-pw@db/app\nLOG_LEVEL=info',
    });
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.ok(result.masks.includes('hunter2-hunter2'));
    assert.ok(result.masks.includes('s3cr3t-pw'));
    assert.ok(!result.masks.includes('info'), 'plain values are not masked');
  });
});
