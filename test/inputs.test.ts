import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {readInputs, type Inputs} from '../src/inputs.ts';
import {InputError, parseDuration, parseWords} from '../src/parse.ts';

const read = (inputs: Record<string, string>, env: Record<string, string> = {}): Inputs =>
  readInputs((name) => inputs[name] ?? '', env);

describe('parseDuration', () => {
  const cases: Array<[string, number]> = [
    ['90s', 90],
    ['10m', 600],
    ['1h30m', 5400],
    ['2h', 7200],
    ['1h2m3s', 3723],
    ['45', 45],
  ];
  for (const [raw, seconds] of cases) {
    it(`reads ${raw} as ${seconds} seconds`, () => assert.equal(parseDuration('timeout', raw), seconds));
  }
  for (const raw of ['', '10 m', '1.5h', '10min', 'm', '-5', '5d']) {
    it(`refuses "${raw}" naming the input`, () =>
      assert.throws(() => parseDuration('timeout', raw), {name: 'InputError', message: /"timeout".*90s, 10m, 1h30m/}));
  }
});

describe('parseWords', () => {
  const cases: Array<[string, string[]]> = [
    ['["migrate", "--yes"]', ['migrate', '--yes']],
    ['[]', []],
    ['migrate --yes', ['migrate', '--yes']],
    [`python manage.py migrate --database "primary db"`, ['python', 'manage.py', 'migrate', '--database', 'primary db']],
    [`echo 'a b' c\\ d`, ['echo', 'a b', 'c d']],
    ['run --url "$DATABASE_URL"', ['run', '--url', '$DATABASE_URL']],
    ['ls *.sql', ['ls', '*.sql']],
  ];
  for (const [raw, words] of cases) {
    it(`reads ${raw}`, () => assert.deepEqual(parseWords('args', raw), words));
  }
  const bad: Array<[string, RegExp]> = [
    ['["a", 1]', /JSON array of strings/],
    ['["a",', /not a valid JSON array/],
    ['migrate && deploy', /shell operator "&&".*not run by a shell/],
    ['migrate | tee log', /shell operator "\|"/],
    ['migrate # now', /comment/],
    ['echo "unclosed', /quote that is not closed/],
    ['echo ${HOME', /"\$\{" that is not closed by "\}", or an empty "\$\{\}"/],
    ['echo ${}', /"\$\{" that is not closed/],
  ];
  for (const [raw, message] of bad) {
    it(`refuses ${raw}`, () => assert.throws(() => parseWords('args', raw), {name: 'InputError', message}));
  }
});

describe('readInputs', () => {
  it('applies the defaults: us-central1, wait, cancel on abort, project from the environment', () => {
    const inputs = read({job: 'migrate'}, {GCLOUD_PROJECT: 'from-gcloud', GCP_PROJECT: 'from-gcp'});
    assert.deepEqual(inputs.job, {project: 'from-gcloud', region: 'us-central1', name: 'migrate'});
    assert.equal(inputs.maxRetries, undefined, 'unset: 0 for a managed job, "must not retry" for one run as it is');
    assert.equal(inputs.taskCount, undefined);
    assert.equal(inputs.wait, true);
    assert.equal(inputs.cancelOnAbort, true);
    assert.equal(inputs.ownsSpec, false);
  });

  it('prefers project_id to the environment, and GOOGLE_CLOUD_PROJECT to the other variables', () => {
    assert.equal(read({job: 'm', project_id: 'given-project'}, {GOOGLE_CLOUD_PROJECT: 'env-project'}).job.project, 'given-project');
    assert.equal(read({job: 'm'}, {GCP_PROJECT: 'gcp-project', GOOGLE_CLOUD_PROJECT: 'google-project'}).job.project, 'google-project');
  });

  it('reads a full job name', () => {
    assert.deepEqual(read({job: 'projects/my-project/locations/europe-west1/jobs/db-migrate'}).job, {
      project: 'my-project',
      region: 'europe-west1',
      name: 'db-migrate',
    });
  });

  it('reads every job setting into the typed object and takes ownership of the spec', () => {
    const inputs = read({
      job: 'migrate',
      image: 'us-docker.pkg.dev/p/repo/app:1.2.3',
      command: '["python", "manage.py"]',
      args: 'migrate --noinput',
      env_vars: 'DEBUG=false\nDATABASE_URL=postgres://u:p@h/db?a=1,b=2\n',
      secrets: 'DB_PASSWORD=db-password, API_KEY=projects/other/secrets/api-key:3',
      service_account: 'migrator@my-project.iam.gserviceaccount.com',
      cloudsql_instances: 'my-project:us-central1:main',
      vpc_connector: 'conn-1',
      vpc_egress: 'all-traffic',
      memory: '1Gi',
      cpu: '2',
      labels: 'team=data,tier=db',
      timeout: '15m',
      max_retries: '1',
      wait: 'false',
    });
    assert.deepEqual(inputs.command, ['python', 'manage.py']);
    assert.deepEqual(inputs.args, ['migrate', '--noinput']);
    assert.deepEqual(inputs.env, [
      {name: 'DEBUG', value: 'false'},
      {name: 'DATABASE_URL', value: 'postgres://u:p@h/db?a=1,b=2'},
    ]);
    assert.deepEqual(inputs.secrets, [
      {name: 'DB_PASSWORD', secret: 'db-password', version: 'latest'},
      {name: 'API_KEY', secret: 'projects/other/secrets/api-key', version: '3'},
    ]);
    assert.equal(inputs.vpcEgress, 'ALL_TRAFFIC');
    assert.deepEqual(inputs.labels, {team: 'data', tier: 'db'});
    assert.equal(inputs.timeoutSeconds, 900);
    assert.equal(inputs.maxRetries, 1);
    assert.equal(inputs.wait, false);
    assert.equal(inputs.ownsSpec, true);
  });

  it('reads Direct VPC egress, the container and dry_run', () => {
    const inputs = read({
      job: 'migrate',
      network: 'projects/host/global/networks/shared',
      subnetwork: 'jobs',
      network_tags: 'db-client, migrations',
      container: 'migrate',
      dry_run: 'true',
    });
    assert.deepEqual(inputs.networkInterface, {network: 'projects/host/global/networks/shared', subnetwork: 'jobs', tags: ['db-client', 'migrations']});
    assert.equal(inputs.container, 'migrate');
    assert.equal(inputs.dryRun, true);
    assert.equal(inputs.ownsSpec, true, 'network settings live in the job');
    const defaults = read({job: 'migrate'});
    assert.equal(defaults.dryRun, false);
    assert.equal(defaults.container, undefined);
    assert.equal(defaults.networkInterface, undefined);
    assert.equal(read({job: 'migrate', container: 'migrate'}).ownsSpec, false, 'naming the container alone changes nothing');
  });

  it('leaves the job as it is when only args, env_vars and timeout are given', () => {
    assert.equal(read({job: 'migrate', args: 'up', env_vars: 'A=1', timeout: '5m'}).ownsSpec, false);
  });

  const invalid: Array<[string, Record<string, string>, RegExp]> = [
    ['a missing job', {}, /"job" is required/],
    ['an uppercase job name', {job: 'Migrate'}, /"job" must be a job name of lowercase letters/],
    ['a job name ending with a dash', {job: 'migrate-'}, /"job"/],
    ['a job name starting with a digit', {job: '1migrate'}, /"job"/],
    ['a job name over 63 characters', {job: `m${'a'.repeat(63)}`}, /at most 63 characters/],
    ['a job name with a quote', {job: 'mig"rate'}, /"job"/],
    ['a region that is not one', {job: 'm', region: 'mars'}, /"region" must be a Cloud Run region/],
    ['a bad project', {job: 'm', project_id: 'No'}, /"project_id" must be a Google Cloud project ID/],
    ['a region that contradicts the full name', {job: 'projects/my-project/locations/us-east1/jobs/m', region: 'us-central1'}, /"region" is "us-central1" but "job" names "us-east1"/],
    ['an image with a space', {job: 'm', image: 'my image'}, /"image" must be an image reference/],
    ['an empty command', {job: 'm', command: '[]'}, /"command" is set but names no program/],
    ['an env entry without =', {job: 'm', env_vars: 'A=1\nhunter2'}, /"env_vars" entry 2 is not KEY=VALUE/],
    ['an env key set twice', {job: 'm', env_vars: 'A=1,A=2'}, /"env_vars" sets "A" twice/],
    ['a platform variable', {job: 'm', env_vars: 'CLOUD_RUN_TASK_INDEX=3'}, /which Cloud Run sets for every task/],
    ['an env name with a space', {job: 'm', env_vars: 'MY VAR=1'}, /"env_vars" must be KEY=VALUE/],
    ['a secret with a literal value', {job: 'm', secrets: 'DB_PASSWORD=hunter2:with:colons'}, /"secrets" must be KEY=SECRET\[:VERSION\]/],
    ['a secret also set as env', {job: 'm', env_vars: 'A=1', secrets: 'A=a'}, /"env_vars" sets too/],
    ['a service account that is not an email', {job: 'm', service_account: 'migrator'}, /"service_account" must be a service account email/],
    ['a Cloud SQL instance without its region', {job: 'm', cloudsql_instances: 'p:main'}, /"cloudsql_instances" must be a list of PROJECT:REGION:INSTANCE/],
    ['an unknown egress', {job: 'm', vpc_egress: 'some'}, /"vpc_egress" must be all-traffic or private-ranges-only/],
    ['a memory without a unit form', {job: 'm', memory: 'lots'}, /"memory" must be a size/],
    ['a label in a reserved namespace', {job: 'm', labels: 'run.googleapis.com/x=1'}, /run.googleapis.com namespace, which Cloud Run reserves/],
    ['an uppercase label', {job: 'm', labels: 'Team=x'}, /"labels" must be KEY=VALUE with lowercase keys/],
    ['an unknown duration', {job: 'm', timeout: '10 minutes'}, /"timeout" must be a duration/],
    ['a zero timeout', {job: 'm', timeout: '0'}, /"timeout" must be more than 0/],
    ['a timeout over 168h', {job: 'm', timeout: '169h'}, /at most 168h/],
    ['too many retries', {job: 'm', max_retries: '11'}, /"max_retries" must be a whole number from 0 to 10/],
    ['a negative retry count', {job: 'm', max_retries: '-1'}, /"max_retries"/],
    ['a non-boolean wait', {job: 'm', wait: 'yes'}, /"wait" must be true or false, got "yes"/],
    ['a non-boolean cancel_on_abort', {job: 'm', cancel_on_abort: 'maybe'}, /"cancel_on_abort" must be true or false/],
    ['no tasks', {job: 'm', task_count: '0'}, /"task_count" must be a whole number from 1 to 10000/],
    ['a connector with a network', {job: 'm', vpc_connector: 'c', network: 'n'}, /Input "vpc_connector" cannot be combined with "network"/],
    ['a connector with a subnetwork', {job: 'm', vpc_connector: 'c', subnetwork: 's'}, /Input "vpc_connector" cannot be combined with "subnetwork"/],
    ['network tags without a network', {job: 'm', network_tags: 'a'}, /"network_tags" needs "network" or "subnetwork"/],
    ['a subnetwork in the wrong form', {job: 'm', subnetwork: 'projects/p/zones/z/subnetworks/s'}, /"subnetwork" must be a subnetwork name/],
    ['an uppercase container name', {job: 'm', container: 'Migrate'}, /"container" must be a container name/],
    ['a non-boolean dry_run', {job: 'm', dry_run: 'perhaps'}, /"dry_run" must be true or false/],
  ];
  for (const [name, inputs, message] of invalid) {
    it(`refuses ${name}`, () => assert.throws(() => read(inputs), (err: Error) => err instanceof InputError && message.test(err.message)));
  }

  it('never echoes an env entry that might be a secret pasted in the wrong form', () => {
    assert.throws(() => read({job: 'm', env_vars: 'hunter2-secret-value'}), (err: Error) => !err.message.includes('hunter2'));
  });
});
