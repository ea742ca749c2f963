import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {Job} from '../src/clients.ts';
import {readInputs} from '../src/inputs.ts';
import {planJob} from '../src/job-spec.ts';
import {compactPlan, jobChanges, planMarkdown} from '../src/plan.ts';

const NAME = 'projects/p-123456/locations/us-central1/jobs/migrate';
const inputs = (values: Record<string, string>) =>
  readInputs((name) => ({job: 'migrate', project_id: 'p-123456', ...values})[name] ?? '', {});

/** A job as GetJob returns it. */
const fetched = (): Job => ({
  name: NAME,
  labels: {owner: 'platform'},
  launchStage: 'GA',
  template: {
    taskCount: 1,
    parallelism: 1,
    template: {
      maxRetries: 0,
      timeout: {seconds: '600', nanos: 0},
      containers: [
        {
          image: 'app:1',
          env: [
            {name: 'DB_PASSWORD', value: 'correct-horse-battery'},
            {name: 'MODE', value: 'safe'},
            {name: 'TOKEN', valueSource: {secretKeyRef: {secret: 'token', version: '1'}}},
          ],
        },
      ],
    },
  },
});

const changesFor = (values: Record<string, string>, job: Job | undefined) => {
  const given = inputs(values);
  return jobChanges(job, planJob(job, NAME, given, '1.0.0').job, given);
};

describe('the plan', () => {
  it('lists each changed field before and after, and nothing else', () => {
    const changes = changesFor({image: 'app:2', env_vars: 'MODE=fast,MIGRATE_TARGET=head', labels: 'team=db'}, fetched());
    assert.deepEqual(changes, [
      {field: 'image', before: 'app:1', after: 'app:2'},
      {field: 'env MODE', before: 'safe', after: 'fast'},
      {field: 'env MIGRATE_TARGET', before: undefined, after: 'head'},
      {field: 'label team', before: undefined, after: 'db'},
    ]);
    assert.equal(compactPlan(changes), 'image app:1 → app:2; env MODE safe → fast; env MIGRATE_TARGET added; label team added');
  });

  it('shows a secret by its reference and masks a value that looks like a credential', () => {
    const changes = changesFor({secrets: 'TOKEN=token:2', env_vars: 'DB_PASSWORD=another-horse-battery'}, fetched());
    assert.deepEqual(changes, [
      {field: 'env DB_PASSWORD', before: '***', after: '*** (a new value)'},
      {field: 'env TOKEN', before: 'secret token:1', after: 'secret token:2'},
    ]);
  });

  it('shows the launch stage, the network and the timeout', () => {
    const changes = changesFor({timeout: '30h', network: 'default', subnetwork: 'jobs', network_tags: 'a,b'}, fetched());
    assert.deepEqual(changes, [
      {field: 'timeout', before: '600s', after: '108000s'},
      {field: 'network', before: undefined, after: 'default'},
      {field: 'subnetwork', before: undefined, after: 'jobs'},
      {field: 'network tags', before: undefined, after: 'a,b'},
      {field: 'launch stage', before: 'GA', after: 'BETA'},
    ]);
  });

  it('is empty for a job that would not change', () => {
    assert.deepEqual(changesFor({image: 'app:1'}, fetched()), []);
  });

  it('lists every field a new job is created with', () => {
    const changes = changesFor({image: 'app:1', command: 'migrate up'}, undefined);
    assert.equal(compactPlan(changes), 'image app:1; command ["migrate","up"]; max retries 0; task count 1');
  });

  it('makes values safe to print: control characters visible, long values cut, table cells escaped', () => {
    const changes = changesFor({env_vars: `MODE=${'x'.repeat(200)}`, labels: 'team=a'}, fetched());
    assert.ok(changes[0].after!.endsWith('…') && changes[0].after!.length === 121);
    const job = fetched();
    job.template!.template!.containers![0].env![1].value = 'a|b\n::error::x<script>';
    const markdown = planMarkdown(changesFor({env_vars: 'MODE=safe'}, job));
    assert.match(markdown, /\| env MODE \| a\\\|b\\x0a::error::x&lt;script&gt; \| safe \|/);
  });
});
