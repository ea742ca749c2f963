// Refusals as Google APIs send them (a google.rpc.Status with an ErrorInfo in the
// grpc-status-details-bin trailer), credentials that do not name the project, and an endpoint
// that cannot be reached: each ends in one error line that says what to do.
import assert from 'node:assert/strict';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {Status} from 'google-gax';
import type {Emulator, FaultRule} from '../emulator/index.ts';
import {runAction, type ActionRun} from '../scripts/local-runner.ts';
import {errorsOf, startTestEmulator} from './support/emulated.ts';

const PROJECT = 'test-project';
const REGION = 'us-central1';
const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate:1';
const jobPath = (name: string) => `projects/${PROJECT}/locations/${REGION}/jobs/${name}`;
const command = JSON.stringify(['node', '-e', '']);

let emulator: Emulator;
let dir: string;

before(async () => {
  emulator = await startTestEmulator();
  dir = await mkdtemp(join(tmpdir(), 'real-errors-'));
});

after(async () => {
  await emulator.stop();
  await rm(dir, {recursive: true, force: true});
});

/** A run of job `job` whose first call to `method` for that job is refused as `rule` says. */
async function refused(job: string, method: string, rule: Omit<FaultRule, 'method'>): Promise<ActionRun> {
  const about = (request: any) => JSON.stringify(request).includes(`jobs/${job}`) || request.jobId === job;
  emulator.faults.add({method, when: about, ...rule});
  return runAction({
    inputs: {job, project_id: PROJECT, region: REGION, image: IMAGE, command},
    env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
  });
}

function assertOneError(result: ActionRun, expected: string) {
  assert.equal(result.code, 1);
  assert.deepEqual(errorsOf(result), [expected]);
  assert.doesNotMatch(result.log.join('\n'), /^\s+at .+\(.+:\d+:\d+\)$/m, 'no stack trace in the log');
  assert.equal(result.stderr.trim(), '', 'nothing on stderr');
}

const runsOf = (job: string) => emulator.callsTo('RunJob').filter((c) => c.request.name === jobPath(job));

describe('refusals read from their ErrorInfo', () => {
  it('names the API that is not enabled and the link to enable it (SERVICE_DISABLED)', async () => {
    const message =
      'Cloud Run Admin API has not been used in project 123456789 before or it is disabled. Enable it by visiting ' +
      'https://console.developers.google.com/apis/api/run.googleapis.com/overview?project=123456789 then retry. ' +
      'If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.';
    const result = await refused('api-off', 'GetJob', {
      code: Status.PERMISSION_DENIED,
      message,
      errorInfo: {
        reason: 'SERVICE_DISABLED',
        domain: 'googleapis.com',
        metadata: {consumer: 'projects/123456789', service: 'run.googleapis.com'},
      },
    });
    assertOneError(
      result,
      `GetJob ${jobPath('api-off')} failed: ${message.replace(/\.$/, '')}. The API run.googleapis.com is not enabled in projects/123456789: ` +
        'enable it (https://console.developers.google.com/apis/api/run.googleapis.com/overview?project=123456789), wait a few minutes, and run again.',
    );
    assert.equal(runsOf('api-off').length, 0);
  });

  it('takes the enable link from the ErrorInfo when it gives one', async () => {
    const activationUrl = 'https://console.developers.google.com/apis/api/run.googleapis.com/overview?project=987';
    const result = await refused('api-off-link', 'GetJob', {
      code: Status.PERMISSION_DENIED,
      message: 'Cloud Run Admin API has not been used in project 987 before or it is disabled.',
      errorInfo: {reason: 'SERVICE_DISABLED', domain: 'googleapis.com', metadata: {service: 'run.googleapis.com', activationUrl}},
    });
    assert.equal(result.code, 1);
    assert.equal(errorsOf(result).length, 1);
    assert.ok(errorsOf(result)[0].endsWith(`is not enabled in the project: enable it (${activationUrl}), wait a few minutes, and run again.`));
  });

  it('says a VPC Service Controls perimeter refused the call, with its unique ID (SECURITY_POLICY_VIOLATED)', async () => {
    const message = "Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: eYhDkfYCu-dOCjuj8X4Am9";
    const result = await refused('perimeter', 'GetJob', {
      code: Status.PERMISSION_DENIED,
      message,
      errorInfo: {
        reason: 'SECURITY_POLICY_VIOLATED',
        domain: 'googleapis.com',
        metadata: {uid: 'eYhDkfYCu-dOCjuj8X4Am9', consumer: 'projects/123456789', service: 'run.googleapis.com'},
      },
    });
    assertOneError(
      result,
      `GetJob ${jobPath('perimeter')} failed: ${message}. A VPC Service Controls perimeter refused the call (unique ID eYhDkfYCu-dOCjuj8X4Am9 in the audit logs): ` +
        "ask its administrators for an ingress rule that lets the workflow's identity reach run.googleapis.com, or run from inside the perimeter.",
    );
    assert.equal(runsOf('perimeter').length, 0);
  });

  it('names the exhausted quota of a write, and does not hammer it (RATE_LIMIT_EXCEEDED)', async () => {
    const message =
      "Quota exceeded for quota metric 'Job write requests' and limit 'Job write requests per minute per region' " +
      "of service 'run.googleapis.com' for consumer 'project_number:123456789'.";
    const result = await refused('quota', 'CreateJob', {
      code: Status.RESOURCE_EXHAUSTED,
      message,
      errorInfo: {
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: {
          consumer: 'projects/123456789',
          service: 'run.googleapis.com',
          quota_metric: 'run.googleapis.com/job_write_requests',
          quota_limit: 'JobWriteRequestsPerMinutePerProjectPerRegion',
        },
      },
    });
    assertOneError(
      result,
      `CreateJob ${jobPath('quota')} failed: ${message.replace(/\.$/, '')}. ` +
        'The quota JobWriteRequestsPerMinutePerProjectPerRegion of run.googleapis.com/job_write_requests is exhausted in projects/123456789: ' +
        'wait a minute before running again (other runs in the project use it too), or raise the quota.',
    );
    assert.equal(emulator.callsTo('CreateJob').filter((c) => c.request.jobId === 'quota').length, 1);
  });

  it('names the permission the ErrorInfo names, whatever the message says (IAM_PERMISSION_DENIED)', async () => {
    const result = await refused('overridden', 'RunJob', {
      code: Status.PERMISSION_DENIED,
      message: 'The caller does not have permission',
      errorInfo: {reason: 'IAM_PERMISSION_DENIED', domain: 'googleapis.com', metadata: {permission: 'run.jobs.runWithOverrides'}},
    });
    assertOneError(
      result,
      `RunJob ${jobPath('overridden')} failed: The caller does not have permission. ` +
        "The workflow's identity lacks the permission run.jobs.runWithOverrides: grant it roles/run.developer.",
    );
  });

  it('points at the auth step when the credentials cannot be exchanged for a token', async () => {
    // What grpc-js reports when google-auth-library's token exchange fails (load-balancing-call.js).
    const message =
      'Getting metadata from plugin failed with error: Error code invalid_target: The target service indicated by the "audience" ' +
      "parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.";
    const result = await refused('no-token', 'GetJob', {code: Status.UNKNOWN, message});
    assertOneError(
      result,
      `GetJob ${jobPath('no-token')} failed: ${message.replace(/\.$/, '')}. The credentials could not be exchanged for a token: ` +
        'check the google-github-actions/auth step (workload_identity_provider, service_account) and that the job has "permissions: id-token: write".',
    );
    assert.equal(emulator.callsTo('GetJob').filter((c) => c.request.name === jobPath('no-token')).length, 1);
  });
});

describe('the project, never guessed', () => {
  it('asks for project_id with Workload Identity Federation credentials, before any call', async () => {
    const credentials = join(dir, 'wif.json');
    // The shape google-github-actions/auth writes for direct Workload Identity Federation.
    await writeFile(
      credentials,
      JSON.stringify({
        type: 'external_account',
        audience: '//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github/providers/repo',
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: 'https://sts.googleapis.com/v1/token',
        credential_source: {
          url: 'https://pipelines.actions.githubusercontent.invalid/token?audience=x',
          headers: {Authorization: 'Bearer not-a-token'},
          format: {type: 'json', subject_token_field_name: 'value'},
        },
      }),
    );
    const result = await runAction({inputs: {job: 'migrate', image: IMAGE}, env: {GOOGLE_APPLICATION_CREDENTIALS: credentials}});
    assertOneError(
      result,
      'Input "project_id" is required with Workload Identity Federation credentials, which do not name the job\'s project: ' +
        "set project_id (the auth step's project_id input also sets GOOGLE_CLOUD_PROJECT).",
    );
  });
});

describe('an endpoint that cannot be reached', () => {
  it('fails naming the address, with one error line, when nothing listens there', {timeout: 90_000}, async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const {port} = server.address() as {port: number};
    await new Promise((resolve) => server.close(resolve));
    const result = await runAction({
      inputs: {job: 'nowhere', project_id: PROJECT, image: IMAGE, command},
      env: {CLOUD_RUN_EMULATOR_HOST: `127.0.0.1:${port}`},
    });
    assert.equal(result.code, 1);
    const errors = errorsOf(result);
    assert.equal(errors.length, 1);
    assert.match(
      errors[0],
      new RegExp(`^Cloud Run could not be reached at 127\\.0\\.0\\.1:${port} within 15 s \\(.+\\): is the emulator listening there \\(CLOUD_RUN_EMULATOR_HOST\\)\\?$`),
    );
  });
});
