import assert from 'node:assert/strict';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {Status} from 'google-gax';
import {keyProject, noProject} from '../src/credentials.ts';
import {explain, OperationFailed, rpcCode} from '../src/errors.ts';
import {InputError} from '../src/parse.ts';

describe('OperationFailed', () => {
  it('keeps the code of a failed operation apart from the status of a call', () => {
    const failed = new OperationFailed({code: Status.NOT_FOUND, message: "Image 'app:2' not found."});
    assert.equal(rpcCode(failed), undefined, 'not a NOT_FOUND of the call');
    assert.equal(failed.operationCode, Status.NOT_FOUND);
  });

  it('explains a failed job write with its own message, and advice for a missing image', () => {
    const image = explain(new OperationFailed({code: Status.NOT_FOUND, message: "Image 'app:2' not found."}), 'UpdateJob', 'jobs/j');
    assert.match(image.message, /^UpdateJob jobs\/j failed: Image 'app:2' not found\. Push the image before this step/);
    const other = explain(new OperationFailed({code: Status.FAILED_PRECONDITION, message: 'Revision failed'}), 'CreateJob', 'jobs/j');
    assert.equal(other.message, 'CreateJob jobs/j failed: Revision failed. Nothing was run.');
  });
});

describe('keyProject', () => {
  let dir: string;
  const file = async (name: string, content: object) => {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(content));
    return path;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'credentials-'));
  });
  after(() => rm(dir, {recursive: true, force: true}));

  it('takes the project of a service account key', async () => {
    assert.equal(keyProject(await file('key.json', {type: 'service_account', project_id: 'key-project'})), 'key-project');
  });

  it('refuses Workload Identity Federation credentials, which name no project', async () => {
    const wif = await file('wif.json', {type: 'external_account', audience: '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/providers/q'});
    assert.throws(() => keyProject(wif), (err: Error) => err instanceof InputError && /Workload Identity Federation/.test(err.message));
  });

  it('takes nothing from other credentials, or from none', async () => {
    assert.equal(keyProject(await file('user.json', {type: 'authorized_user', quota_project_id: 'quota-project'})), undefined);
    assert.equal(keyProject(await file('bare-key.json', {type: 'service_account'})), undefined);
    assert.equal(keyProject(join(dir, 'missing.json')), undefined);
    assert.equal(keyProject(undefined), undefined);
    assert.match(noProject().message, /^Input "project_id" is required: /);
  });
});
