import assert from 'node:assert/strict';
import {after, before, describe, it, type TestContext} from 'node:test';
import {v2 as run} from '@google-cloud/run';
import {grpc, Status} from 'google-gax';
import {startEmulator, type Emulator, type LaunchStageRefusal} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun} from '../scripts/local-runner.ts';
import {callsFor, errorsOf, startTestEmulator} from './support/emulated.ts';

const PROJECT = 'test-project';
const REGION = 'us-central1';
const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate';
const PROXY = 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.0';
const jobPath = (name: string) => `projects/${PROJECT}/locations/${REGION}/jobs/${name}`;
const node = (script: string) => JSON.stringify(['node', '-e', script]);

let emulator: Emulator;

before(async () => {
  emulator = await startTestEmulator();
});

after(() => emulator.stop());

function action(inputs: Record<string, string>, on: Emulator = emulator): Promise<ActionRun> {
  return runAction({
    inputs: {project_id: PROJECT, region: REGION, ...inputs},
    env: {CLOUD_RUN_EMULATOR_HOST: on.address},
  });
}

const stored = (name: string, on: Emulator = emulator) => on.getJob(jobPath(name)) as any;

/** A migration job with a SQL proxy beside it, as a team would have set it up. */
function putSidecarJob(name: string, order: 'migrate-first' | 'proxy-first' = 'migrate-first') {
  const migrate = {name: 'migrate', image: `${IMAGE}:v1`, command: ['node', '-e', 'process.exit(process.env.STEP === "two" ? 0 : 3)']};
  const proxy = {
    name: 'proxy',
    image: PROXY,
    args: ['--port', '5432', '--quitquitquit', 'test-project:us-central1:db'],
    env: [{name: 'CSQL_PROXY_LOG', value: 'debug'}],
    resources: {limits: {memory: '256Mi', cpu: '1'}},
  };
  return emulator.putJob({
    name: jobPath(name),
    template: {
      taskCount: 1,
      template: {maxRetries: 0, containers: order === 'migrate-first' ? [migrate, proxy] : [proxy, migrate]},
    },
  }) as any;
}

/** Every call that writes or runs the job. */
const writes = (job: string) =>
  ['UpdateJob', 'CreateJob', 'RunJob'].flatMap((method) => callsFor(emulator, method, job)).length +
  emulator.callsTo('CreateJob').filter((c) => (c.request.jobId ?? c.request.job_id) === job).length;

describe('Direct VPC egress', () => {
  it('writes network, subnetwork and tags as the job\'s one network interface, with vpc_egress', async () => {
    const result = await action({
      job: 'direct-vpc',
      image: `${IMAGE}:v1`,
      command: node(''),
      network: 'shared-vpc',
      subnetwork: 'projects/host-project/regions/us-central1/subnetworks/jobs',
      network_tags: 'db-client\nmigrations',
      vpc_egress: 'all-traffic',
    });
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'succeeded');
    const access = stored('direct-vpc').template.template.vpcAccess;
    assert.deepEqual(JSON.parse(JSON.stringify(access)), {
      egress: 'ALL_TRAFFIC',
      networkInterfaces: [
        {network: 'shared-vpc', subnetwork: 'projects/host-project/regions/us-central1/subnetworks/jobs', tags: ['db-client', 'migrations']},
      ],
    });
  });

  it('moves a job from a connector to Direct VPC egress, and says so in the plan', async () => {
    emulator.putJob({
      name: jobPath('to-direct'),
      template: {
        template: {
          maxRetries: 0,
          containers: [{image: `${IMAGE}:v1`, command: ['node', '-e', '']}],
          vpcAccess: {connector: `projects/${PROJECT}/locations/${REGION}/connectors/old`, egress: 'PRIVATE_RANGES_ONLY'},
        },
      },
    });
    const result = await action({job: 'to-direct', image: `${IMAGE}:v1`, network: 'default'});
    assert.equal(result.code, 0, result.log.join('\n'));
    const access = stored('to-direct').template.template.vpcAccess;
    assert.equal(access.connector ?? '', '');
    assert.deepEqual(access.networkInterfaces.map((n: any) => n.network), ['default']);
    assert.equal(access.egress, 'PRIVATE_RANGES_ONLY', 'egress is kept');
    const plan = result.log.find((l) => l.startsWith('Changes: '));
    assert.equal(plan, 'Changes: VPC connector removed; network default');
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['vpc_connector with network', {vpc_connector: 'conn', network: 'default'}, /Input "vpc_connector" cannot be combined with "network"/],
    ['vpc_connector with subnetwork', {vpc_connector: 'conn', subnetwork: 'jobs'}, /Input "vpc_connector" cannot be combined with "subnetwork"/],
    ['network_tags alone', {network_tags: 'db'}, /Input "network_tags" needs "network" or "subnetwork"/],
    ['a malformed network', {network: 'Not A Network'}, /Input "network" must be a VPC network name/],
    ['a malformed tag', {network: 'default', network_tags: 'DB Client'}, /Input "network_tags" must be network tags/],
  ];
  for (const [what, inputs, message] of bad) {
    it(`refuses ${what} as a bad input, before any call`, async () => {
      const calls = emulator.calls.length;
      const result = await action({job: 'vpc-bad', image: `${IMAGE}:v1`, ...inputs});
      assert.equal(result.code, 1);
      const errors = errorsOf(result);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0], message);
      assert.equal(emulator.calls.length, calls, 'no call was made');
      assert.equal(result.outputs.changed, 'false');
    });
  }
});

describe('a job with a sidecar', () => {
  it('applies the inputs to the named container and keeps the sidecar byte for byte', async () => {
    const before = putSidecarJob('sidecar-kept');
    const proxyBefore = JSON.stringify(before.template.template.containers[1]);
    const result = await action({
      job: 'sidecar-kept',
      container: 'migrate',
      image: `${IMAGE}:v2`,
      env_vars: 'STEP=two',
      memory: '1Gi',
      cpu: '2',
    });
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'succeeded');
    assert.equal(result.outputs.changed, 'true');
    const containers = stored('sidecar-kept').template.template.containers;
    assert.deepEqual(containers.map((c: any) => c.name), ['migrate', 'proxy']);
    assert.equal(containers[0].image, `${IMAGE}:v2`);
    assert.deepEqual(containers[0].env.map((e: any) => [e.name, e.value]), [['STEP', 'two']]);
    assert.deepEqual({...containers[0].resources.limits}, {memory: '1Gi', cpu: '2'});
    assert.equal(JSON.stringify(containers[1]), proxyBefore, 'the sidecar is exactly as it was');
  });

  it('applies the inputs to a container that is not the first, and leaves the first alone', async () => {
    const before = putSidecarJob('sidecar-second', 'proxy-first');
    const proxyBefore = JSON.stringify(before.template.template.containers[0]);
    // wait: false: the emulator runs only a job's first container (docs/emulator.md).
    const result = await action({job: 'sidecar-second', container: 'migrate', image: `${IMAGE}:v2`, wait: 'false'});
    assert.equal(result.code, 0, result.log.join('\n'));
    const containers = stored('sidecar-second').template.template.containers;
    assert.equal(JSON.stringify(containers[0]), proxyBefore);
    assert.equal(containers[1].image, `${IMAGE}:v2`);
    assert.ok(result.log.includes(`Changes: image ${IMAGE}:v1 → ${IMAGE}:v2`), result.log.join('\n'));
  });

  it('names the container in RunJob\'s overrides when it runs the job as it is', async () => {
    putSidecarJob('sidecar-overrides');
    const result = await action({job: 'sidecar-overrides', container: 'migrate', env_vars: 'STEP=two'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'succeeded', 'the override reached the migration container');
    assert.equal(result.outputs.changed, 'false');
    const [call] = callsFor(emulator, 'RunJob', 'sidecar-overrides');
    const overrides = call.request.overrides.containerOverrides ?? call.request.overrides.container_overrides;
    assert.equal(overrides[0].name, 'migrate');
  });

  it('names the first container in the overrides by default, as Cloud Run needs with several containers', async () => {
    putSidecarJob('sidecar-default');
    const result = await action({job: 'sidecar-default', env_vars: 'STEP=two'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'succeeded');
    const [call] = callsFor(emulator, 'RunJob', 'sidecar-default');
    assert.equal((call.request.overrides.containerOverrides ?? call.request.overrides.container_overrides)[0].name, 'migrate');
  });

  for (const inputs of [{image: `${IMAGE}:v2`}, {env_vars: 'STEP=two'}] as Array<Record<string, string>>) {
    it(`refuses a container the job does not have (${Object.keys(inputs)[0]}), before any write`, async () => {
      const job = `sidecar-unknown-${Object.keys(inputs)[0].replace('_', '-')}`;
      const before = putSidecarJob(job);
      const result = await action({job, container: 'app', ...inputs});
      assert.equal(result.code, 1);
      assert.deepEqual(errorsOf(result), [
        `Input "container" is "app", but job ${job} has no container of that name (it has "migrate", "proxy")`,
      ]);
      assert.equal(writes(job), 0, 'nothing was written or run');
      assert.equal(stored(job).etag, before.etag);
    });
  }

  it('gives a new job\'s container the name', async () => {
    const result = await action({job: 'named-new', container: 'migrate', image: `${IMAGE}:v1`, command: node('')});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.deepEqual(stored('named-new').template.template.containers.map((c: any) => c.name), ['migrate']);
  });

  it('refuses a malformed container name, before any call', async () => {
    const calls = emulator.calls.length;
    const result = await action({job: 'named-bad', container: 'Migrate_1', image: `${IMAGE}:v1`});
    assert.equal(result.code, 1);
    assert.match(errorsOf(result)[0], /Input "container" must be a container name/);
    assert.equal(emulator.calls.length, calls);
  });
});

describe('launch stage', () => {
  it('declares BETA for a timeout over 24 h, which Cloud Run accepts, and runs the job', async () => {
    const result = await action({job: 'long-timeout', image: `${IMAGE}:v1`, command: node(''), timeout: '48h'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'succeeded');
    const job = stored('long-timeout');
    assert.equal(job.launchStage, 'BETA');
    assert.equal(job.template.template.timeout.seconds, String(48 * 3600));
  });

  it('keeps an ALPHA job ALPHA when the timeout goes over 24 h', async () => {
    emulator.putJob({
      name: jobPath('alpha-job'),
      launchStage: 'ALPHA',
      template: {template: {maxRetries: 0, containers: [{image: `${IMAGE}:v1`, command: ['node', '-e', '']}]}},
    });
    const result = await action({job: 'alpha-job', image: `${IMAGE}:v1`, timeout: '30h'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(stored('alpha-job').launchStage, 'ALPHA');
    const [update] = callsFor(emulator, 'UpdateJob', 'alpha-job');
    assert.equal(update.request.job.launchStage ?? update.request.job.launch_stage, 'ALPHA');
  });

  it('leaves a GA job GA for a timeout of 24 h or less', async () => {
    const result = await action({job: 'day-timeout', image: `${IMAGE}:v1`, command: node(''), timeout: '24h'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(stored('day-timeout').launchStage, 'GA');
  });

  for (const refusal of ['invalid-argument', 'failed-precondition'] as LaunchStageRefusal[]) {
    it(`validates a BETA write over 24 h with validate_only (launchStageRefusal: ${refusal})`, async (t) => {
      const own = await emulatorWith(t, refusal);
      const result = await action({job: 'dry-long', image: `${IMAGE}:v1`, command: node(''), timeout: '100h', dry_run: 'true'}, own);
      assert.equal(result.code, 0, result.log.join('\n'));
      assert.match(result.log.join('\n'), /launch stage BETA/);
      assert.equal(own.callsTo('CreateJob')[0].code, Status.OK);
      assert.equal(own.getJob(jobPath('dry-long')), undefined);
    });

    it(`refuses a GA job over 24 h with the launch-stage message, stores nothing (launchStageRefusal: ${refusal})`, async (t) => {
      const own = await emulatorWith(t, refusal);
      const jobs = new run.JobsClient({
        apiEndpoint: '127.0.0.1',
        port: own.port,
        sslCreds: grpc.credentials.createInsecure(),
        universeDomain: 'googleapis.com',
      });
      t.after(() => jobs.close());
      const job = {template: {template: {containers: [{image: `${IMAGE}:v1`}], timeout: {seconds: 25 * 3600}}}};
      const parent = `projects/${PROJECT}/locations/${REGION}`;
      for (const validateOnly of [true, false]) {
        await assert.rejects(jobs.createJob({parent, jobId: 'ga-long', job, validateOnly}), (err: any) => {
          if (refusal === 'invalid-argument') {
            assert.equal(err.code, Status.INVALID_ARGUMENT);
            assert.match(err.details, /is not supported in the declared launch stage on resource ga-long\. The launch stage annotation should be specified at least as BETA/);
          } else {
            assert.equal(err.code, Status.FAILED_PRECONDITION);
            assert.equal(err.details, 'Precondition check failed.');
          }
          return true;
        });
      }
      assert.equal(own.getJob(jobPath('ga-long')), undefined);
    });
  }
});

describe('the changed output and the plan of a normal run', () => {
  it('prints the compact plan before it updates the job, and sets changed', async () => {
    emulator.putJob({
      name: jobPath('planned'),
      template: {template: {maxRetries: 0, containers: [{image: `${IMAGE}:v1`, command: ['node', '-e', '']}]}},
    });
    const result = await action({job: 'planned', image: `${IMAGE}:v2`, env_vars: 'MIGRATE_TARGET=head'});
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.changed, 'true');
    const updating = result.log.indexOf('Updating job planned...');
    assert.equal(result.log[updating + 1], `Changes: image ${IMAGE}:v1 → ${IMAGE}:v2; env MIGRATE_TARGET added`);
    assert.ok(updating < result.log.findIndex((l) => l.startsWith('Started execution')));

    const again = await action({job: 'planned', image: `${IMAGE}:v2`, env_vars: 'MIGRATE_TARGET=head'});
    assert.equal(again.code, 0, again.log.join('\n'));
    assert.equal(again.outputs.changed, 'false');
    assert.ok(!again.log.some((l) => l.startsWith('Changes: ')));
  });
});

async function emulatorWith(t: TestContext, launchStageRefusal: LaunchStageRefusal): Promise<Emulator> {
  const own = await startEmulator({workdir: ROOT, killGraceMs: 200, logBufferMs: 50, launchStageRefusal});
  t.after(() => own.stop());
  return own;
}
