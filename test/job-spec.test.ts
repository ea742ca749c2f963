import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {readInputs} from '../src/inputs.ts';
import type {Job} from '../src/clients.ts';
import {planJob} from '../src/job-spec.ts';

const NAME = 'projects/p-123456/locations/us-central1/jobs/migrate';
const inputs = (values: Record<string, string>) =>
  readInputs((name) => ({job: 'migrate', project_id: 'p-123456', ...values})[name] ?? '', {});

/** A job as GetJob returns it: int64 as strings, enums as names, defaults filled in. */
const fetched = (): Job & {template: {template: {maxRetries: number}; taskCount: number}} => ({
  name: NAME,
  etag: 'etag-1',
  generation: '4',
  labels: {owner: 'platform'},
  template: {
    taskCount: 1,
    parallelism: 1,
    template: {
      maxRetries: 0,
      timeout: {seconds: '600', nanos: 0},
      executionEnvironment: 'EXECUTION_ENVIRONMENT_UNSPECIFIED',
      containers: [
        {
          image: 'app:1',
          command: ['migrate'],
          args: [],
          env: [{name: 'OTHER', value: 'kept'}],
          volumeMounts: [{name: 'certs', mountPath: '/certs'}],
        },
      ],
      volumes: [{name: 'certs', emptyDir: {}}],
    },
  },
});

describe('planJob', () => {
  it('builds a new job with one task, no retries and the inputs', () => {
    const plan = planJob(undefined, NAME, inputs({image: 'app:2', args: 'up', env_vars: 'A=1', secrets: 'B=b-secret:2', timeout: '5m'}), '1.0.0');
    assert.equal(plan.changed, true);
    assert.deepEqual(plan.job.template, {
      taskCount: 1,
      parallelism: 1,
      template: {
        maxRetries: 0,
        timeout: {seconds: 300, nanos: 0},
        containers: [
          {
            image: 'app:2',
            args: ['up'],
            env: [{name: 'A', value: '1'}, {name: 'B', valueSource: {secretKeyRef: {secret: 'b-secret', version: '2'}}}],
          },
        ],
      },
    });
    assert.equal(plan.job.client, 'cloud-run-migrate');
    assert.equal(plan.job.clientVersion, '1.0.0');
  });

  it('sees no change when the job already holds what the inputs ask for', () => {
    assert.equal(planJob(fetched(), NAME, inputs({image: 'app:1'}), '1.0.0').changed, false);
    assert.equal(planJob(fetched(), NAME, inputs({image: 'app:1', env_vars: 'OTHER=kept', timeout: '10m'}), '1.0.0').changed, false);
  });

  it('changes only the fields the action owns and keeps the rest', () => {
    const plan = planJob(fetched(), NAME, inputs({image: 'app:2', env_vars: 'NEW=1', labels: 'team=db', cloudsql_instances: 'p-123456:us-central1:main'}), '1.0.0');
    assert.equal(plan.changed, true);
    const task = plan.job.template?.template;
    const container = task?.containers?.[0];
    assert.equal(container?.image, 'app:2');
    assert.deepEqual(container?.command, ['migrate']);
    assert.deepEqual(container?.env?.map((e) => e.name), ['OTHER', 'NEW']);
    assert.deepEqual(task?.volumes?.map((v) => v.name), ['certs', 'cloudsql']);
    assert.deepEqual(task?.volumes?.[1].cloudSqlInstance, {instances: ['p-123456:us-central1:main']});
    assert.deepEqual(container?.volumeMounts?.map((m) => m.mountPath), ['/certs', '/cloudsql']);
    assert.deepEqual(plan.job.labels, {owner: 'platform', team: 'db'});
    assert.equal(plan.job.etag, 'etag-1');
  });

  it('replaces an env var of the same name in place', () => {
    const plan = planJob(fetched(), NAME, inputs({env_vars: 'OTHER=changed'}), '1.0.0');
    assert.deepEqual(plan.job.template?.template?.containers?.[0].env, [{name: 'OTHER', value: 'changed'}]);
  });

  it('corrects an unsafe retry count and task count left on the job', () => {
    const job = fetched();
    job.template.template.maxRetries = 3;
    job.template.taskCount = 5;
    const plan = planJob(job, NAME, inputs({image: 'app:1'}), '1.0.0');
    assert.equal(plan.changed, true);
    assert.equal(plan.job.template?.template?.maxRetries, 0);
    assert.equal(plan.job.template?.taskCount, 1);
  });

  it('expands a short VPC connector name in the job\'s region', () => {
    const plan = planJob(undefined, NAME, inputs({image: 'app:1', vpc_connector: 'conn', vpc_egress: 'all-traffic'}), '1.0.0');
    assert.deepEqual(plan.job.template?.template?.vpcAccess, {
      connector: 'projects/p-123456/locations/us-central1/connectors/conn',
      egress: 'ALL_TRAFFIC',
    });
  });

  it('applies the inputs to the named container and keeps the others as they are', () => {
    const job = fetched();
    const sidecar = {name: 'proxy', image: 'proxy:2', args: ['--port', '5432']};
    job.template.template.containers = [sidecar, {...job.template.template.containers![0], name: 'migrate'}];
    const plan = planJob(job, NAME, inputs({container: 'migrate', image: 'app:2', env_vars: 'A=1', memory: '1Gi'}), '1.0.0');
    const [first, second] = plan.job.template!.template!.containers!;
    assert.deepEqual(first, sidecar);
    assert.equal(second.image, 'app:2');
    assert.deepEqual(second.env?.map((e) => e.name), ['OTHER', 'A']);
    assert.equal(second.resources?.limits?.memory, '1Gi');
  });

  it('refuses a container name the job does not have, naming those it has', () => {
    const job = fetched();
    job.template.template.containers![0].name = 'app';
    assert.throws(() => planJob(job, NAME, inputs({container: 'migrate', image: 'app:2'}), '1.0.0'), {
      name: 'InputError',
      message: 'Input "container" is "migrate", but job migrate has no container of that name (it has "app")',
    });
  });

  it('names a new job\'s container', () => {
    const plan = planJob(undefined, NAME, inputs({container: 'migrate', image: 'app:1'}), '1.0.0');
    assert.deepEqual(plan.job.template?.template?.containers, [{name: 'migrate', image: 'app:1', env: []}]);
  });

  it('writes Direct VPC egress in place of a connector, keeping the egress setting', () => {
    const job = fetched();
    job.template.template.vpcAccess = {connector: 'projects/p/locations/us-central1/connectors/old', egress: 'ALL_TRAFFIC'};
    const plan = planJob(job, NAME, inputs({network: 'default', network_tags: 'db'}), '1.0.0');
    assert.deepEqual(plan.job.template?.template?.vpcAccess, {egress: 'ALL_TRAFFIC', networkInterfaces: [{network: 'default', tags: ['db']}]});
    const back = planJob(plan.job, NAME, inputs({vpc_connector: 'conn'}), '1.0.0');
    assert.deepEqual(back.job.template?.template?.vpcAccess, {
      egress: 'ALL_TRAFFIC',
      connector: 'projects/p-123456/locations/us-central1/connectors/conn',
    });
  });

  it('declares BETA for a timeout over 24 h, and never lowers a job\'s own stage', () => {
    assert.equal(planJob(undefined, NAME, inputs({image: 'app:1', timeout: '24h'}), '1.0.0').job.launchStage, undefined);
    assert.equal(planJob(undefined, NAME, inputs({image: 'app:1', timeout: '25h'}), '1.0.0').job.launchStage, 'BETA');
    const ga = {...fetched(), launchStage: 'GA' as const};
    const plan = planJob(ga, NAME, inputs({timeout: '168h'}), '1.0.0');
    assert.equal(plan.job.launchStage, 'BETA');
    assert.equal(plan.changed, true);
    const alpha = {...fetched(), launchStage: 'ALPHA' as const};
    assert.equal(planJob(alpha, NAME, inputs({timeout: '48h'}), '1.0.0').job.launchStage, 'ALPHA');
    assert.equal(planJob(alpha, NAME, inputs({image: 'app:1'}), '1.0.0').changed, false, 'the stage alone is no change');
  });
});
