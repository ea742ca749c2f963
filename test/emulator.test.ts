// The Cloud Run emulator, driven over a real socket by the real client
// libraries (@google-cloud/run and @google-cloud/logging-api).
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {createInterface} from 'node:readline';
import {describe, it, type TestContext} from 'node:test';
import {v2 as logging} from '@google-cloud/logging-api';
import {protos, v2 as run} from '@google-cloud/run';
import {Status, grpc} from 'google-gax';
import {type EmulatorOptions, startEmulator} from '../emulator/index.ts';

const PROJECT = 'test-project';
const LOCATION = 'us-central1';
const PARENT = `projects/${PROJECT}/locations/${LOCATION}`;
const IMAGE = 'us-docker.pkg.dev/test-project/images/app:1';
const {State} = protos.google.cloud.run.v2.Condition;

type Json = Record<string, any>;

/** An emulator and the real clients pointed at it, closed when the test ends. */
async function harness(t: TestContext, options: EmulatorOptions = {}) {
  const emulator = await startEmulator({killGraceMs: 200, logBufferMs: 50, ...options});
  const clientOptions = {
    apiEndpoint: '127.0.0.1',
    port: emulator.port,
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
  const clients = {
    jobs: new run.JobsClient(clientOptions),
    executions: new run.ExecutionsClient(clientOptions),
    tasks: new run.TasksClient(clientOptions),
    logging: new logging.LoggingServiceV2Client(clientOptions),
  };
  t.after(async () => {
    await Promise.all(Object.values(clients).map(client => client.close()));
    await emulator.stop();
  });
  return {emulator, ...clients};
}

/** A job whose single container runs `node -e script`. */
function nodeJob(script: string, taskTemplate: Json = {}, executionTemplate: Json = {}): Json {
  return {
    template: {
      ...executionTemplate,
      template: {maxRetries: 0, ...taskTemplate, containers: [{image: IMAGE, command: ['node', '-e', script]}]},
    },
  };
}

async function createJob(jobs: run.JobsClient, id: string, job: Json): Promise<string> {
  const [operation] = await jobs.createJob({parent: PARENT, jobId: id, job});
  await operation.promise();
  return `${PARENT}/jobs/${id}`;
}

/** Rejects unless `promise` fails with gRPC `code` and a message matching `message`. */
async function rejectsWith(promise: Promise<unknown>, code: number, message?: RegExp | string): Promise<void> {
  await assert.rejects(promise, (error: Json) => {
    assert.equal(error.code, code, `code ${error.code}: ${error.message}`);
    if (typeof message === 'string') assert.ok(error.details === message || error.message.endsWith(message), error.message);
    else if (message) assert.match(error.message, message);
    return true;
  });
}

const condition = (resource: Json, type: string): Json => resource.conditions.find((c: Json) => c.type === type);
const seconds = (timestamp: Json): number => Number(timestamp.seconds) + timestamp.nanos / 1e9;
const rfc3339 = (timestamp: Json): string =>
  `${new Date(Number(timestamp.seconds) * 1000).toISOString().slice(0, 19)}.${String(timestamp.nanos).padStart(9, '0')}Z`;

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

describe('Cloud Run emulator', () => {
  it('creates, gets and fully replaces jobs, with server defaults, generation and etag', async t => {
    const {jobs} = await harness(t);
    const name = await createJob(jobs, 'migrate', {
      labels: {team: 'db'},
      template: {template: {containers: [{image: IMAGE, args: ['up']}]}},
    });
    const [created] = await jobs.getJob({name});
    assert.equal(created.name, name);
    assert.equal(created.generation, '1');
    assert.equal(created.template!.taskCount, 1);
    assert.equal(created.template!.template!.maxRetries, 3);
    assert.equal(created.template!.template!.timeout!.seconds, '600');
    assert.deepEqual(created.labels, {team: 'db'});
    assert.equal(created.terminalCondition!.type, 'Ready');
    assert.equal(created.terminalCondition!.state, 'CONDITION_SUCCEEDED');
    assert.ok(created.uid && created.etag && created.createTime && created.creator);

    // There is no update mask: the job sent replaces the stored one (labels go).
    const [update] = await jobs.updateJob({
      job: {name, etag: created.etag, template: {template: {maxRetries: 0, containers: [{image: IMAGE, args: ['down']}]}}},
    });
    await update.promise();
    const [updated] = await jobs.getJob({name});
    assert.equal(updated.generation, '2');
    assert.equal(updated.observedGeneration, '2');
    assert.notEqual(updated.etag, created.etag);
    assert.deepEqual(updated.labels, {});
    assert.equal(updated.template!.template!.maxRetries, 0, 'max_retries 0 is kept, not defaulted');
    assert.deepEqual(updated.template!.template!.containers![0]!.args, ['down']);
    assert.equal(updated.uid, created.uid);

    await rejectsWith(jobs.updateJob({job: {...updated, etag: created.etag}}), Status.ABORTED, /etag/);
    await rejectsWith(jobs.createJob({parent: PARENT, jobId: 'migrate', job: updated}), Status.ALREADY_EXISTS, /migrate/);
    await rejectsWith(
      jobs.updateJob({job: {name: `${PARENT}/jobs/absent`, template: updated.template}}),
      Status.NOT_FOUND,
      "Resource 'absent' of kind 'JOB' in region 'us-central1' in project 'test-project' does not exist.",
    );
    const [upsert] = await jobs.updateJob({job: {name: `${PARENT}/jobs/absent`, template: updated.template}, allowMissing: true});
    await upsert.promise();
    const [listed] = await jobs.listJobs({parent: PARENT});
    assert.deepEqual(
      listed.map(job => job.name),
      [`${PARENT}/jobs/absent`, name],
      'newest first',
    );

    const [deletion] = await jobs.deleteJob({name: `${PARENT}/jobs/absent`});
    const [deleted] = await deletion.promise();
    assert.ok(deleted.deleteTime);
    await rejectsWith(jobs.getJob({name: `${PARENT}/jobs/absent`}), Status.NOT_FOUND);
  });

  it('runs a job as a local process: the execution succeeds, its task exits 0 and its output is logged', async t => {
    const {jobs, executions, tasks, logging: logs} = await harness(t);
    const name = await createJob(jobs, 'hello', nodeJob("console.log('hi'); process.exit(0)"));
    const [operation] = await jobs.runJob({name});
    const metadata = operation.metadata as Json;
    assert.match(metadata.name, new RegExp(`^${name}/executions/hello-[a-z0-9]{5}$`));
    // LRO metadata is decoded by the client as a protobuf message: enums are numbers.
    assert.equal(condition(metadata, 'Completed').state, State.CONDITION_PENDING);
    assert.equal(metadata.reconciling, true);
    assert.equal(metadata.completionTime, null);

    const [result] = await operation.promise();
    assert.equal((result as Json).name, metadata.name);
    const [execution] = await executions.getExecution({name: metadata.name});
    assert.equal(condition(execution, 'Completed').state, 'CONDITION_SUCCEEDED');
    assert.equal(condition(execution, 'Completed').reasons, undefined, 'successful conditions have no reason');
    assert.equal(condition(execution, 'Started').state, 'CONDITION_SUCCEEDED');
    assert.equal(condition(execution, 'ResourcesAvailable').state, 'CONDITION_SUCCEEDED');
    assert.deepEqual(
      [execution.succeededCount, execution.failedCount, execution.runningCount, execution.cancelledCount, execution.taskCount],
      [1, 0, 0, 0, 1],
    );
    assert.equal(execution.reconciling, false);
    assert.equal(execution.job, 'hello');
    assert.ok(seconds(execution.createTime!) <= seconds(execution.startTime!));
    assert.ok(seconds(execution.startTime!) <= seconds(execution.completionTime!));
    assert.deepEqual(execution.completionTime, condition(execution, 'Completed').lastTransitionTime);

    const [taskList] = await tasks.listTasks({parent: metadata.name});
    assert.equal(taskList.length, 1);
    const task = taskList[0]!;
    assert.equal(task.name, `${metadata.name}/tasks/${metadata.name.split('/').pop()}-task0`);
    assert.equal(task.index, 0);
    assert.equal(task.lastAttemptResult!.exitCode, 0);
    assert.equal(task.lastAttemptResult!.status!.code, 0);
    assert.equal(condition(task, 'Completed').state, 'CONDITION_SUCCEEDED');

    const [job] = await jobs.getJob({name});
    assert.equal(job.executionCount, 1);
    assert.equal(job.latestCreatedExecution!.name, metadata.name);
    assert.equal(job.latestCreatedExecution!.completionStatus, 'EXECUTION_SUCCEEDED');

    // The execution's log_uri carries the filter that selects its entries.
    const filter = new URL(execution.logUri!).searchParams.get('advancedFilter')!;
    const [entries] = await logs.listLogEntries({resourceNames: [`projects/${PROJECT}`], filter});
    assert.deepEqual(
      entries.map(entry => [entry.logName!.split('/').pop(), entry.severity, entry.textPayload]),
      [
        ['run.googleapis.com%2Fstdout', 'DEFAULT', 'hi'],
        ['run.googleapis.com%2Fvarlog%2Fsystem', 'INFO', 'Container called exit(0).'],
      ],
    );
    const entry = entries[0]!;
    assert.equal(entry.logName, `projects/${PROJECT}/logs/run.googleapis.com%2Fstdout`);
    assert.equal(entry.severity, 'DEFAULT');
    assert.deepEqual(entry.resource, {type: 'cloud_run_job', labels: {project_id: PROJECT, job_name: 'hello', location: LOCATION}});
    assert.equal(entry.labels!['run.googleapis.com/execution_name'], metadata.name.split('/').pop());
    assert.equal(entry.labels!['run.googleapis.com/task_index'], '0');
    assert.equal(entry.labels!['run.googleapis.com/task_attempt'], '0');
    assert.ok(entry.insertId && entry.timestamp && entry.labels!.instanceId);
  });

  it('fails an execution on a non-zero exit with NON_ZERO_EXIT_CODE, the exit code and a platform log line', async t => {
    const {emulator, jobs, tasks} = await harness(t);
    const name = await createJob(jobs, 'broken', nodeJob("console.error('boom'); process.exit(3)"));
    const [operation] = await jobs.runJob({name});
    const executionName = (operation.metadata as Json).name as string;
    const executionId = executionName.split('/').pop();
    const message = `Task ${executionId}-task0 failed with message: The container exited with an error.`;
    await rejectsWith(operation.promise(), Status.FAILED_PRECONDITION, message);

    const execution = emulator.executions(name)[0] as Json;
    const completed = condition(execution, 'Completed');
    assert.equal(completed.state, 'CONDITION_FAILED');
    assert.equal(completed.message, message);
    assert.equal(completed.executionReason, 'NON_ZERO_EXIT_CODE');
    assert.deepEqual([execution.failedCount, execution.succeededCount, execution.runningCount], [1, 0, 0]);
    assert.ok(execution.completionTime);

    const [[task]] = await tasks.listTasks({parent: executionName});
    assert.equal(task!.lastAttemptResult!.exitCode, 3);
    assert.notEqual(task!.lastAttemptResult!.status!.code, 0);
    assert.equal(condition(task!, 'Completed').state, 'CONDITION_FAILED');

    const entries = emulator.logEntries() as Json[];
    assert.deepEqual(
      entries.map(entry => [entry.logName.split('/').pop(), entry.severity, entry.textPayload]),
      [
        ['run.googleapis.com%2Fstderr', 'ERROR', 'boom'],
        ['run.googleapis.com%2Fvarlog%2Fsystem', 'WARNING', 'Container called exit(3).'],
      ],
    );
  });

  it('stops an attempt that outlives its timeout and retries the task up to max_retries', async t => {
    const {emulator, jobs, tasks} = await harness(t, {killGraceMs: 100});
    const script = "console.log('attempt ' + process.env.CLOUD_RUN_TASK_ATTEMPT); setInterval(() => {}, 1000)";
    const name = await createJob(jobs, 'slow', nodeJob(script, {maxRetries: 1, timeout: {nanos: 300_000_000}}));
    const [operation] = await jobs.runJob({name});
    const executionId = ((operation.metadata as Json).name as string).split('/').pop();
    await rejectsWith(
      operation.promise(),
      Status.FAILED_PRECONDITION,
      `Task ${executionId}-task0 failed with message: The configured timeout was reached.`,
    );

    const execution = emulator.executions(name)[0] as Json;
    const completed = condition(execution, 'Completed');
    assert.equal(completed.executionReason, undefined, 'there is no timeout reason');
    assert.equal(completed.reason, undefined);
    assert.deepEqual([execution.failedCount, execution.retriedCount], [1, 1]);
    const [[task]] = await tasks.listTasks({parent: execution.name});
    assert.equal(task!.retried, 1);
    assert.equal(task!.lastAttemptResult!.termSignal, 15, 'stopped by SIGTERM');
    assert.equal(task!.lastAttemptResult!.status!.message, 'The configured timeout was reached.');

    const lines = (emulator.logEntries() as Json[]).map(entry => entry.textPayload);
    assert.deepEqual(
      lines.filter(line => line.startsWith('attempt')),
      ['attempt 0', 'attempt 1'],
    );
    assert.equal(lines.filter(line => /maximum timeout of 0.3 seconds/.test(line)).length, 2);
    assert.equal(lines.filter(line => line === 'Container terminated on signal 15.').length, 2);
  });

  it('kills an attempt that ignores SIGTERM after the grace period', async t => {
    const {emulator, jobs, tasks} = await harness(t, {killGraceMs: 100});
    const script = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); setInterval(() => {}, 1000)";
    const name = await createJob(jobs, 'stubborn', nodeJob(script, {timeout: {nanos: 200_000_000}}));
    const [operation] = await jobs.runJob({name});
    await rejectsWith(operation.promise(), Status.FAILED_PRECONDITION, /timeout was reached/);
    const [[task]] = await tasks.listTasks({parent: (operation.metadata as Json).name});
    assert.equal(task!.lastAttemptResult!.termSignal, 9, 'SIGKILL');
    assert.ok((emulator.logEntries() as Json[]).some(entry => entry.textPayload === 'ignoring SIGTERM'));
  });

  it('applies RunJob overrides (args replaced, env merged, task count and timeout) and gives the process only the container env', async t => {
    process.env.EMULATOR_TEST_LEAK = 'host value';
    t.after(() => delete process.env.EMULATOR_TEST_LEAK);
    const {emulator, jobs} = await harness(t, {secrets: {[`projects/${PROJECT}/secrets/db-password/versions/2`]: 's3cret'}});
    // Prefixed, so that the line is text: a line of JSON would be a structured entry.
    const script = `console.log("output " + JSON.stringify({
      args: process.argv.slice(1),
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !['PATH', 'HOME'].includes(k))),
      cwd: process.cwd(),
    }))`;
    const job = nodeJob(script);
    Object.assign(job.template.template.containers[0], {
      args: ['original'],
      env: [
        {name: 'A', value: '1'},
        {name: 'B', value: '2'},
        {name: 'PASSWORD', valueSource: {secretKeyRef: {secret: 'db-password', version: 'latest'}}},
      ],
    });
    const name = await createJob(jobs, 'overridden', job);
    const [operation] = await jobs.runJob({
      name,
      overrides: {
        containerOverrides: [{args: ['one', 'two'], env: [{name: 'B', value: 'override'}, {name: 'C', value: '3'}]}],
        taskCount: 2,
        timeout: {seconds: 30},
      },
    });
    await operation.promise();

    const execution = emulator.executions(name)[0] as Json;
    assert.equal(execution.taskCount, 2);
    assert.equal(execution.template.timeout.seconds, '30');
    assert.deepEqual(execution.template.containers[0].args, ['one', 'two']);
    const outputs = (emulator.logEntries() as Json[])
      .filter(entry => entry.logName.endsWith('stdout'))
      .map(entry => JSON.parse(entry.textPayload.slice('output '.length)))
      .sort((a, b) => a.env.CLOUD_RUN_TASK_INDEX - b.env.CLOUD_RUN_TASK_INDEX);
    assert.equal(outputs.length, 2);
    const executionId = execution.name.split('/').pop();
    for (const [index, output] of outputs.entries()) {
      assert.deepEqual(output.args, ['one', 'two']);
      assert.deepEqual(output.env, {
        A: '1',
        B: 'override',
        C: '3',
        PASSWORD: 's3cret',
        CLOUD_RUN_JOB: 'overridden',
        CLOUD_RUN_EXECUTION: executionId,
        CLOUD_RUN_TASK_INDEX: String(index),
        CLOUD_RUN_TASK_ATTEMPT: '0',
        CLOUD_RUN_TASK_COUNT: '2',
      });
      assert.equal(output.cwd, process.cwd());
    }
    const [job2] = await jobs.getJob({name});
    assert.deepEqual(job2.template!.template!.containers![0]!.args, ['original'], 'the job itself is unchanged');

    await rejectsWith(
      jobs.runJob({name, overrides: {containerOverrides: [{name: 'sidecar', args: ['x']}]}}),
      Status.INVALID_ARGUMENT,
      /container_overrides\[0\]\.name/,
    );
  });

  it('cancels a running execution: its process is killed and it ends CANCELLED without failing the RunJob operation', async t => {
    const {emulator, jobs, executions} = await harness(t);
    const name = await createJob(jobs, 'endless', nodeJob("console.log('pid ' + process.pid); setInterval(() => {}, 1000)"));
    const [operation] = await jobs.runJob({name});
    const executionName = (operation.metadata as Json).name as string;
    const pidLine = await until(
      () => (emulator.logEntries() as Json[]).find(entry => entry.textPayload.startsWith('pid ')),
      'the task to start',
    );
    const pid = Number(pidLine.textPayload.slice(4));

    const [cancellation] = await executions.cancelExecution({name: executionName});
    assert.equal(condition(cancellation.metadata as Json, 'Completed').executionReason, 4 /* CANCELLING */);
    const [cancelled] = await cancellation.promise();
    assert.equal((cancelled as Json).name, executionName);
    const [execution] = await executions.getExecution({name: executionName});
    const completed = condition(execution, 'Completed');
    assert.equal(completed.state, 'CONDITION_FAILED');
    assert.equal(completed.executionReason, 'CANCELLED');
    assert.deepEqual([execution.cancelledCount, execution.runningCount, execution.succeededCount], [1, 0, 0]);
    assert.ok(execution.completionTime);
    assert.throws(() => process.kill(pid, 0), {code: 'ESRCH'}, 'the process is gone');

    // "the cancelled case completes without error"
    const [result] = await operation.promise();
    assert.equal((result as Json).name, executionName);
    const [job] = await jobs.getJob({name});
    assert.equal(job.latestCreatedExecution!.completionStatus, 'EXECUTION_CANCELLED');

    await rejectsWith(executions.cancelExecution({name: executionName}), Status.FAILED_PRECONDITION);
    const [deletion] = await executions.deleteExecution({name: executionName});
    await deletion.promise();
    await rejectsWith(executions.getExecution({name: executionName}), Status.NOT_FOUND, /EXECUTION/);
    const [withDeleted] = await executions.listExecutions({parent: name, showDeleted: true});
    assert.equal(withDeleted.length, 1);
    assert.ok(withDeleted[0]!.deleteTime);
  });

  it('refuses to delete a running execution', async t => {
    const {jobs, executions} = await harness(t);
    const name = await createJob(jobs, 'busy', nodeJob('setInterval(() => {}, 1000)'));
    const [operation] = await jobs.runJob({name});
    const executionName = (operation.metadata as Json).name as string;
    await rejectsWith(executions.deleteExecution({name: executionName}), Status.FAILED_PRECONDITION, /running/);
    await rejectsWith(jobs.deleteJob({name}), Status.FAILED_PRECONDITION, /running/);
    const [cancellation] = await executions.cancelExecution({name: executionName});
    await cancellation.promise();
  });

  it('uses the image entrypoint from the registry, and fails a job write naming a missing image, keeping the write', async t => {
    const images = {[IMAGE]: {command: ['node', '-e'], args: ["console.log('from the image')"]}};
    const {emulator, jobs} = await harness(t, {images});
    const name = await createJob(jobs, 'from-image', {template: {template: {containers: [{image: IMAGE}]}}});
    const [operation] = await jobs.runJob({name});
    await operation.promise();
    assert.deepEqual(
      (emulator.logEntries() as Json[]).map(entry => entry.textPayload),
      ['from the image', 'Container called exit(0).'],
    );

    const missing = 'us-docker.pkg.dev/test-project/images/missing:1';
    const job = {template: {template: {containers: [{image: missing}]}}};
    const [create] = await jobs.createJob({parent: PARENT, jobId: 'missing-image', job});
    await rejectsWith(create.promise(), Status.NOT_FOUND, `Image '${missing}' not found.`);
    const kept = emulator.getJob(`${PARENT}/jobs/missing-image`) as Json;
    assert.equal(kept.template.template.containers[0].image, missing, 'the write is kept');
    assert.equal(kept.terminalCondition.state, 'CONDITION_FAILED');

    const [update] = await jobs.updateJob({job: {...kept, template: {template: {containers: [{image: `${missing}-too`}]}}}});
    await rejectsWith(update.promise(), Status.NOT_FOUND, `Image '${missing}-too' not found.`);
    assert.equal(emulator.executions().length, 1, 'no execution ran for the failed writes');

    // A job written out of band with an image that is not (or no longer) in the registry cannot start.
    const other = `${PARENT}/jobs/gone-image`;
    emulator.putJob({name: other, template: {template: {maxRetries: 0, containers: [{image: missing}]}}});
    const [failing] = await jobs.runJob({name: other});
    await rejectsWith(failing.promise(), Status.FAILED_PRECONDITION, `Image '${missing}' not found.`);
    const completed = condition(emulator.executions(other)[0] as Json, 'Completed');
    assert.equal(completed.reason, 'CONTAINER_MISSING');
    assert.equal(completed.message, `Image '${missing}' not found.`);
  });

  it('fails an execution whose secret cannot be resolved with SECRETS_ACCESS_CHECK_FAILED', async t => {
    const {emulator, jobs} = await harness(t);
    const job = nodeJob('');
    job.template.template.containers[0].env = [{name: 'TOKEN', valueSource: {secretKeyRef: {secret: 'api-token'}}}];
    const name = await createJob(jobs, 'secretive', job);
    const [operation] = await jobs.runJob({name});
    await rejectsWith(operation.promise(), Status.FAILED_PRECONDITION, /projects\/test-project\/secrets\/api-token\/versions\/latest/);
    assert.equal(condition(emulator.executions(name)[0] as Json, 'Completed').reason, 'SECRETS_ACCESS_CHECK_FAILED');
  });

  it('answers WaitOperation as soon as the operation is done, or when its timeout elapses', async t => {
    const {jobs} = await harness(t);
    const name = await createJob(jobs, 'waited', nodeJob('setTimeout(() => {}, 1500)'));
    const [operation] = await jobs.runJob({name});
    const stub = (await jobs.operationsClient.operationsStub) as Json;
    const wait = (request: Json) =>
      new Promise<Json>((resolve, reject) =>
        stub.waitOperation(request, (error: Error | null, response: Json) => (error ? reject(error) : resolve(response))),
      );

    let started = Date.now();
    const early = await wait({name: operation.name, timeout: {nanos: 150_000_000}});
    const earlyMs = Date.now() - started;
    assert.equal(early.done, false);
    assert.ok(earlyMs >= 140, `returned after its timeout (${earlyMs} ms)`);

    started = Date.now();
    const done = await wait({name: operation.name, timeout: {seconds: 30}});
    const doneMs = Date.now() - started;
    assert.equal(done.done, true);
    assert.ok(done.response, 'a succeeded execution is the response');
    assert.ok(doneMs < 10_000, `returned when the operation finished, not after its timeout (${doneMs} ms)`);

    const checked = await jobs.checkRunJobProgress(operation.name!);
    assert.equal(checked.done, true);
  });

  it('streams with TailLogEntries the lines written after the session started', async t => {
    const {emulator, jobs, logging: logs} = await harness(t);
    const script = "console.log('first'); console.error('second'); process.stdout.write('no newline')";
    const name = await createJob(jobs, 'tailed', nodeJob(script));
    const [before] = await jobs.runJob({name});
    await before.promise();

    const stream = logs.tailLogEntries();
    const received: Json[] = [];
    stream.on('data', (response: Json) => received.push(...response.entries));
    stream.write({
      resourceNames: [`projects/${PROJECT}`],
      filter: 'resource.type="cloud_run_job" resource.labels.job_name="tailed"',
      bufferWindow: {nanos: 50_000_000},
    });
    await until(() => emulator.callsTo('TailLogEntries').length > 0, 'the session to start');
    const [after] = await jobs.runJob({name});
    await after.promise();
    await until(() => received.length >= 4, 'four streamed entries');
    stream.end();
    await once(stream, 'end');
    const executionId = ((after.metadata as Json).name as string).split('/').pop();
    assert.deepEqual(
      received.map(entry => [entry.labels['run.googleapis.com/execution_name'], entry.severity, entry.textPayload]),
      [
        [executionId, 'DEFAULT', 'first'],
        [executionId, 'ERROR', 'second'],
        [executionId, 'DEFAULT', 'no newline'],
        [executionId, 'INFO', 'Container called exit(0).'],
      ],
    );
  });

  it('injects faults: an error N times, an afterEffect that acts before failing, latency, and a hang that meets the client deadline', async t => {
    const {emulator, jobs, executions} = await harness(t);
    const name = await createJob(jobs, 'faulty', nodeJob(''));

    emulator.faults.add({method: 'GetJob', code: Status.UNAVAILABLE, message: 'try again', times: 2});
    await rejectsWith(jobs.getJob({name}), Status.UNAVAILABLE, 'try again');
    await rejectsWith(jobs.getJob({name}), Status.UNAVAILABLE);
    await jobs.getJob({name});
    assert.deepEqual(
      emulator.callsTo('google.cloud.run.v2.Jobs/GetJob').map(call => call.code),
      [Status.UNAVAILABLE, Status.UNAVAILABLE, Status.OK],
    );

    // The lost response: the execution exists although RunJob failed.
    emulator.faults.add({method: 'RunJob', code: Status.UNAVAILABLE, afterEffect: true});
    await rejectsWith(jobs.runJob({name}), Status.UNAVAILABLE);
    assert.equal(emulator.executions(name).length, 1);

    emulator.faults.add({method: 'GetJob', delayMs: 200, when: request => request.name === name});
    const started = Date.now();
    await jobs.getJob({name});
    assert.ok(Date.now() - started >= 190, 'answered after the injected latency');

    const executionName = (emulator.executions(name)[0] as Json).name;
    emulator.faults.add({method: 'GetExecution', hang: true});
    await rejectsWith(executions.getExecution({name: executionName}, {timeout: 200}), Status.DEADLINE_EXCEEDED);
    await until(() => emulator.callsTo('GetExecution')[0]!.code !== -1, 'the hung call to be given up');
    assert.equal(emulator.callsTo('GetExecution')[0]!.code, Status.DEADLINE_EXCEEDED);
    await executions.getExecution({name: executionName});

    emulator.faults.add({method: 'GetJob', code: Status.INTERNAL, times: Infinity});
    emulator.faults.clear();
    await jobs.getJob({name});
    assert.ok(emulator.calls.every(call => call.code !== -1));
  });

  it('denies calls needing a denied permission with the Cloud Run message', async t => {
    const {emulator, jobs, logging: logs} = await harness(t);
    const name = await createJob(jobs, 'guarded', nodeJob(''));
    emulator.denyPermission('run.jobs.runWithOverrides');
    await rejectsWith(
      jobs.runJob({name, overrides: {taskCount: 2}}),
      Status.PERMISSION_DENIED,
      `Permission 'run.jobs.runWithOverrides' denied on resource '${name}' (or resource may not exist).`,
    );
    assert.equal(emulator.executions(name).length, 0);
    const [operation] = await jobs.runJob({name});
    await operation.promise();

    emulator.denyPermission('iam.serviceAccounts.actAs');
    const job = nodeJob('', {serviceAccount: 'runner@test-project.iam.gserviceaccount.com'});
    await rejectsWith(
      jobs.createJob({parent: PARENT, jobId: 'impersonating', job}),
      Status.PERMISSION_DENIED,
      "Permission 'iam.serviceaccounts.actAs' denied on service account runner@test-project.iam.gserviceaccount.com (or it may not exist).",
    );

    emulator.denyPermission('logging.logEntries.list');
    await rejectsWith(logs.listLogEntries({resourceNames: [`projects/${PROJECT}`]}), Status.PERMISSION_DENIED, /logging\.logEntries\.list/);
  });

  it('explains a denial with an ErrorInfo the client decodes: reason, domain and the permission', async t => {
    const {emulator, jobs} = await harness(t);
    const name = await createJob(jobs, 'explained', nodeJob(''));
    emulator.denyPermission('run.jobs.run');
    await assert.rejects(jobs.runJob({name}), (error: Json) => {
      assert.equal(error.code, Status.PERMISSION_DENIED);
      assert.equal(error.reason, 'IAM_PERMISSION_DENIED');
      assert.equal(error.domain, 'googleapis.com');
      assert.deepEqual(error.errorInfoMetadata, {permission: 'run.jobs.run', resource: name});
      return true;
    });
  });

  it('sends a fault rule\'s ErrorInfo with its status', async t => {
    const {emulator, jobs} = await harness(t);
    const metadata = {consumer: 'projects/123', service: 'run.googleapis.com'};
    emulator.faults.add({
      method: 'GetJob',
      code: Status.PERMISSION_DENIED,
      message: 'Cloud Run Admin API has not been used in project 123 before or it is disabled.',
      errorInfo: {reason: 'SERVICE_DISABLED', domain: 'googleapis.com', metadata},
    });
    await assert.rejects(jobs.getJob({name: `${PARENT}/jobs/any`}), (error: Json) => {
      assert.equal(error.code, Status.PERMISSION_DENIED);
      assert.equal(error.reason, 'SERVICE_DISABLED');
      assert.deepEqual(error.errorInfoMetadata, metadata);
      return true;
    });
  });

  it('rejects invalid jobs and names with INVALID_ARGUMENT naming the field', async t => {
    const {jobs, executions} = await harness(t);
    const valid = nodeJob('');
    const invalid = async (jobId: string, job: Json, field: RegExp) =>
      rejectsWith(jobs.createJob({parent: PARENT, jobId, job}), Status.INVALID_ARGUMENT, field);
    await invalid('Bad_Name', valid, /job_id/);
    await invalid('ends-with-', valid, /job_id/);
    await invalid('x'.repeat(64), valid, /job_id/);
    await invalid('ok', {template: {template: {containers: []}}}, /job\.template\.template\.containers/);
    await invalid('ok', {template: {template: {containers: [{command: ['true']}]}}}, /containers\[0\]\.image/);
    await invalid('ok', nodeJob('', {maxRetries: 11}), /max_retries/);
    await invalid('ok', nodeJob('', {timeout: {seconds: 169 * 3600}}), /timeout/);
    await invalid('ok', nodeJob('', {}, {taskCount: -1}), /task_count/);
    await invalid('ok', {...valid, labels: {'run.googleapis.com/owner': 'me'}}, /job\.labels.*run\.googleapis\.com/);
    await invalid('ok', {...valid, annotations: {'serving.knative.dev/x': 'y'}}, /job\.annotations/);
    await rejectsWith(jobs.createJob({parent: 'projects/test-project', jobId: 'ok', job: valid}), Status.INVALID_ARGUMENT, /parent/);
    await rejectsWith(jobs.getJob({name: `${PARENT}/jobz/x`}), Status.INVALID_ARGUMENT, /name/);
    await rejectsWith(
      executions.getExecution({name: `${PARENT}/jobs/none/executions/none-abcde`}),
      Status.NOT_FOUND,
      "Resource 'none-abcde' of kind 'EXECUTION' in region 'us-central1' in project 'test-project' does not exist.",
    );
  });

  it('lists executions newest first, page by page, and runs jobs out of band with startExecution', async t => {
    const {emulator, jobs, executions} = await harness(t);
    const name = `${PARENT}/jobs/seeded`;
    const stored = emulator.putJob({name, template: {template: {containers: [{image: IMAGE, command: ['node', '-e', '']}]}}}) as Json;
    assert.equal(stored.generation, '1');
    const started = [0, 1, 2].map(() => emulator.startExecution(name));
    await until(() => emulator.executions(name).every(e => (e as Json).completionTime), 'the executions to complete');

    const [firstPage, nextRequest] = await executions.listExecutions({parent: name, pageSize: 2}, {autoPaginate: false});
    assert.deepEqual(
      firstPage.map(execution => execution.name),
      [started[2], started[1]],
    );
    const [secondPage, last] = await executions.listExecutions(nextRequest!, {autoPaginate: false});
    assert.deepEqual(
      secondPage.map(execution => execution.name),
      [started[0]],
    );
    assert.equal(last, null);
    const [everywhere] = await executions.listExecutions({parent: `${PARENT}/jobs/-`});
    assert.equal(everywhere.length, 3);

    const [job] = await jobs.getJob({name});
    assert.equal(job.executionCount, 3);
    assert.equal(job.latestCreatedExecution!.name, started[2]);
  });

  it('runs tasks in parallel up to parallelism, each with its own index', async t => {
    const {emulator, jobs, tasks} = await harness(t);
    const script = "console.log('task ' + process.env.CLOUD_RUN_TASK_INDEX + ' of ' + process.env.CLOUD_RUN_TASK_COUNT)";
    const name = await createJob(jobs, 'parallel', nodeJob(script, {}, {taskCount: 3, parallelism: 2}));
    const [operation] = await jobs.runJob({name});
    await operation.promise();
    const execution = emulator.executions(name)[0] as Json;
    assert.deepEqual([execution.taskCount, execution.parallelism, execution.succeededCount], [3, 2, 3]);
    const [taskList] = await tasks.listTasks({parent: execution.name});
    assert.deepEqual(
      taskList.map(task => task.index),
      [0, 1, 2],
    );
    assert.deepEqual(
      (emulator.logEntries() as Json[]).filter(entry => entry.logName.endsWith('stdout')).map(entry => entry.textPayload).sort(),
      ['task 0 of 3', 'task 1 of 3', 'task 2 of 3'],
    );
  });

  it('creates the token execution of a job and completes the operation when it completed; a reused token is ALREADY_EXISTS', async t => {
    const {emulator, jobs} = await harness(t);
    const job = {...nodeJob("console.log('migrated')"), runExecutionToken: 'deploy-1'};
    const [operation] = await jobs.createJob({parent: PARENT, jobId: 'tokened', job});
    assert.equal(operation.done, false);
    const [created] = await operation.promise();
    const name = `${PARENT}/jobs/tokened`;
    assert.equal((created as Json).name, name);
    const execution = emulator.executions(name)[0] as Json;
    assert.equal(execution.name, `${name}/executions/tokened-deploy-1`);
    assert.equal(condition(execution, 'Completed').state, 'CONDITION_SUCCEEDED');
    const [stored] = await jobs.getJob({name});
    assert.equal(stored.terminalCondition!.state, 'CONDITION_SUCCEEDED');
    assert.equal(stored.reconciling, false);
    await rejectsWith(jobs.updateJob({job: {...stored}}), Status.ALREADY_EXISTS, /tokened-deploy-1/);
  });

  it('lists log entries in either order with validated page size, order and filter', async t => {
    const {jobs, logging: logs} = await harness(t);
    const name = await createJob(jobs, 'chatty', nodeJob("for (let i = 0; i < 5; i++) console.log('line ' + i)"));
    const [operation] = await jobs.runJob({name});
    await operation.promise();
    const resourceNames = [`projects/${PROJECT}`];
    const filter = 'logName="projects/test-project/logs/run.googleapis.com%2Fstdout" AND severity<WARNING';
    const [ascending] = await logs.listLogEntries({resourceNames, filter});
    assert.deepEqual(
      ascending.map(entry => entry.textPayload),
      ['line 0', 'line 1', 'line 2', 'line 3', 'line 4'],
    );
    const [page, next] = await logs.listLogEntries({resourceNames, filter, orderBy: 'timestamp desc', pageSize: 2}, {autoPaginate: false});
    assert.deepEqual(
      page.map(entry => entry.textPayload),
      ['line 4', 'line 3'],
    );
    const [rest] = await logs.listLogEntries(next!, {autoPaginate: false});
    assert.deepEqual(
      rest.map(entry => entry.textPayload),
      ['line 2', 'line 1'],
    );
    const [afterTimestamp] = await logs.listLogEntries({
      resourceNames,
      filter: `${filter} timestamp>="${rfc3339(ascending[2]!.timestamp!)}" -textPayload:"line 4"`,
    });
    assert.deepEqual(
      afterTimestamp.map(entry => entry.textPayload),
      ['line 2', 'line 3'],
    );
    const [otherProject] = await logs.listLogEntries({resourceNames: ['projects/other-project']});
    assert.equal(otherProject.length, 0);

    await rejectsWith(logs.listLogEntries({resourceNames, pageSize: 1001}, {autoPaginate: false}), Status.INVALID_ARGUMENT, /page_size/);
    await rejectsWith(logs.listLogEntries({resourceNames, orderBy: 'severity'}), Status.INVALID_ARGUMENT, /order_by/);
    await rejectsWith(logs.listLogEntries({resourceNames, filter: 'jsonPayload.level="x"'}), Status.INVALID_ARGUMENT, /jsonPayload\.level/);
    await rejectsWith(logs.listLogEntries({resourceNames: []}), Status.INVALID_ARGUMENT, /resource_names/);
  });

  it('serves google.longrunning.Operations: list, cancel (which cancels the execution) and delete', async t => {
    const {emulator, jobs} = await harness(t);
    const name = await createJob(jobs, 'operated', nodeJob('setInterval(() => {}, 1000)'));
    const [operation] = await jobs.runJob({name});
    const listed: Json[] = [];
    const {longrunning} = protos.google;
    for await (const item of jobs.listOperationsAsync(longrunning.ListOperationsRequest.create({name: PARENT}))) listed.push(item);
    assert.deepEqual(
      listed.map(item => [item.name, item.done]),
      [
        [operation.name, false],
        [listed[1]!.name, true],
      ],
      'the RunJob operation (newest first), then the done CreateJob one',
    );
    assert.match(operation.name!, new RegExp(`^${PARENT}/operations/[0-9a-f-]{36}$`));

    await jobs.cancelOperation(longrunning.CancelOperationRequest.create({name: operation.name!}));
    await rejectsWith(operation.promise(), Status.CANCELLED);
    const completed = condition(emulator.executions(name)[0] as Json, 'Completed');
    assert.equal(completed.executionReason, 'CANCELLED');

    await jobs.deleteOperation(longrunning.DeleteOperationRequest.create({name: operation.name!}));
    await rejectsWith(jobs.checkRunJobProgress(operation.name!), Status.NOT_FOUND, /not found/);
  });

  it('answers validate_only without creating anything', async t => {
    const {emulator, jobs} = await harness(t);
    const [dryCreate] = await jobs.createJob({parent: PARENT, jobId: 'dry', job: nodeJob(''), validateOnly: true});
    const [preview] = await dryCreate.promise();
    assert.equal((preview as Json).template.template.timeout.seconds.toString(), '600', 'defaults are populated');
    assert.equal(emulator.getJob(`${PARENT}/jobs/dry`), undefined);
    const name = await createJob(jobs, 'wet', nodeJob(''));
    const [dryRun] = await jobs.runJob({name, validateOnly: true, overrides: {taskCount: 4}});
    const [execution] = await dryRun.promise();
    assert.equal((execution as Json).taskCount, 4);
    assert.equal(emulator.executions(name).length, 0);
  });

  it('completes a start_execution_token update once the execution started, before it completed', async t => {
    const {emulator, jobs, executions} = await harness(t);
    const name = await createJob(jobs, 'starter', nodeJob('setInterval(() => {}, 1000)'));
    const [job] = await jobs.getJob({name});
    const [operation] = await jobs.updateJob({job: {...job, startExecutionToken: 'abc'}});
    await operation.promise();
    const execution = emulator.executions(name)[0] as Json;
    assert.equal(execution.name, `${name}/executions/starter-abc`);
    assert.ok(execution.startTime);
    assert.equal(execution.completionTime, undefined);
    const [cancellation] = await executions.cancelExecution({name: execution.name});
    await cancellation.promise();
  });

  it('logs a final line without a newline and cuts a line longer than 256 KiB', async t => {
    const {emulator, jobs} = await harness(t);
    const script = "process.stdout.write('x'.repeat(300 * 1024) + '\\nafter\\nlast')";
    const name = await createJob(jobs, 'long-lines', nodeJob(script));
    const [operation] = await jobs.runJob({name});
    await operation.promise();
    const lines = (emulator.logEntries() as Json[]).filter(entry => entry.logName.endsWith('stdout')).map(entry => entry.textPayload as string);
    assert.deepEqual(
      lines.map(line => line.length),
      [256 * 1024, 5, 4],
    );
    assert.deepEqual(lines.slice(1), ['after', 'last']);
  });

  it('kills running task processes when stopped', async t => {
    const {emulator, jobs} = await harness(t, {killGraceMs: 10_000});
    const name = await createJob(jobs, 'orphan', nodeJob("console.log('pid ' + process.pid); setInterval(() => {}, 1000)"));
    await jobs.runJob({name});
    const line = await until(
      () => (emulator.logEntries() as Json[]).find(entry => entry.textPayload.startsWith('pid ')),
      'the task to start',
    );
    const started = Date.now();
    await emulator.stop();
    assert.ok(Date.now() - started < 2000, 'SIGKILL, not the grace period');
    assert.throws(() => process.kill(Number(line.textPayload.slice(4)), 0), {code: 'ESRCH'});
  });

  it('starts from the command line, prints its address, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['emulator/main.ts', '--port', '0'], {stdio: ['ignore', 'pipe', 'pipe']});
    const lines = createInterface({input: child.stdout!})[Symbol.asyncIterator]();
    const listening = (await lines.next()).value as string;
    const exported = (await lines.next()).value as string;
    const address = /^Cloud Run emulator listening on (127\.0\.0\.1:\d+)$/.exec(listening)?.[1];
    assert.ok(address, listening);
    assert.equal(exported, `export CLOUD_RUN_EMULATOR_HOST=${address}`);

    const jobs = new run.JobsClient({
      apiEndpoint: '127.0.0.1',
      port: Number(address.split(':')[1]),
      sslCreds: grpc.credentials.createInsecure(),
      universeDomain: 'googleapis.com',
    });
    await rejectsWith(jobs.getJob({name: `${PARENT}/jobs/absent`}), Status.NOT_FOUND);
    await jobs.close();
    let stderr = '';
    child.stderr!.on('data', chunk => (stderr += chunk));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.match(stderr, /google\.cloud\.run\.v2\.Jobs\/GetJob NOT_FOUND/);
  });
});
