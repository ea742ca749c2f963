import assert from 'node:assert/strict';
import {after, before, describe, it, type TestContext} from 'node:test';
import {startEmulator, type Emulator, type EmulatorOptions} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun} from '../scripts/local-runner.ts';
import {errorsOf, startTestEmulator} from './support/emulated.ts';

// Each verdict Cloud Run can give, as the action reports it: one ::error:: line, the outputs,
// the exit code and the summary's reason, read from the execution and its tasks.

const PROJECT = 'test-project';
const REGION = 'us-central1';
const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate:1';

const node = (script: string) => JSON.stringify(['node', '-e', script]);

/** A job that holds more memory, 32 MiB every 20 ms, up to 1.5 GiB (were the limit not enforced), then waits. */
const HOG = node('const held = []; setInterval(() => held.length < 48 && held.push(Buffer.alloc(32 << 20, 1)), 20)');

let emulator: Emulator;

before(async () => {
  emulator = await startTestEmulator();
});

after(() => emulator.stop());

function action(inputs: Record<string, string>, on: Emulator = emulator, options: Partial<Parameters<typeof runAction>[0]> = {}) {
  return runAction({...options, inputs: {project_id: PROJECT, region: REGION, ...inputs}, env: {CLOUD_RUN_EMULATOR_HOST: on.address}});
}

async function emulatorWith(t: TestContext, options: EmulatorOptions): Promise<Emulator> {
  const started = await startEmulator({workdir: ROOT, killGraceMs: 200, logBufferMs: 50, ...options});
  t.after(() => started.stop());
  return started;
}

/** The one error line, which must read `Execution ID of job JOB <rest> Logs: URL`. */
function failureLine(result: ActionRun, job: string): string {
  const errors = errorsOf(result);
  assert.equal(errors.length, 1, errors.join('\n'));
  const prefix = `Execution ${result.outputs.execution_id} of job ${job} `;
  const suffix = ` Logs: ${result.outputs.log_url}`;
  assert.ok(errors[0].startsWith(prefix) && errors[0].endsWith(suffix), errors[0]);
  return errors[0].slice(prefix.length, -suffix.length);
}

const summaryReason = (result: ActionRun) => /^\| Reason \| (.*) \|$/m.exec(result.summary)?.[1]?.replaceAll('\\|', '|');

const systemLines = (on: Emulator, executionId: string) =>
  (on.logEntries() as Array<{logName: string; severity: string; textPayload?: string; labels?: Record<string, string>}>)
    .filter((e) => e.logName.endsWith('varlog%2Fsystem') && e.labels?.['run.googleapis.com/execution_name'] === executionId)
    .map((e) => `${e.severity} ${e.textPayload}`);

describe('verdicts in the platform\'s words, run from dist/ against the emulator', () => {
  it('says the memory limit a task went over, and to raise "memory", from the execution alone', async () => {
    const result = await action({job: 'oom-default', image: IMAGE, command: HOG, timeout: '60s', logs: 'false'});
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'failed');
    assert.equal(result.outputs.exit_code, undefined, 'the container did not exit by itself');
    assert.equal(result.outputs.failed_count, '1');
    const reason =
      'the container went over its memory limit of 512Mi (Cloud Run\'s default): The configured memory limit was reached. Raise the "memory" input.';
    assert.equal(failureLine(result, 'oom-default'), `failed after ${result.outputs.duration} s: ${reason}`);
    assert.equal(summaryReason(result), reason);
    const lines = systemLines(emulator, result.outputs.execution_id);
    assert.match(lines.at(-2) ?? '', /^ERROR Memory limit of 512 MiB exceeded with \d+ MiB used\. Consider increasing the memory limit, see https:\/\/cloud\.google\.com\/run\/docs\/configuring\/memory-limits$/);
    assert.equal(lines.at(-1), 'WARNING Container terminated on signal 9.');
  });

  for (const outOfMemory of ['term_signal', 'exit_code', 'none'] as const) {
    it(`reads an out-of-memory kill the same way whether the attempt shows ${outOfMemory === 'none' ? 'neither term_signal nor exit_code' : outOfMemory}`, async (t) => {
      const on = await emulatorWith(t, {outOfMemory});
      const result = await action({job: `oom-${outOfMemory.replace('_', '-')}`, image: IMAGE, command: HOG, timeout: '60s', memory: '256Mi'}, on);
      assert.equal(result.code, 1);
      assert.equal(result.outputs.status, 'failed');
      assert.equal(result.outputs.exit_code, undefined);
      const reason = 'the container went over its memory limit of 256Mi: The configured memory limit was reached. Raise the "memory" input.';
      assert.equal(failureLine(result, `oom-${outOfMemory.replace('_', '-')}`), `failed after ${result.outputs.duration} s: ${reason}`);
      assert.equal(summaryReason(result), reason);
      assert.match(systemLines(on, result.outputs.execution_id).join('\n'), /^ERROR Memory limit of 256 MiB exceeded with \d+ MiB used\./m);
    });
  }

  it('says to push an image removed after the job was written, and that the service agent must read it', async (t) => {
    const on = await emulatorWith(t, {images: {[IMAGE]: {command: ['node', '-e', '']}}});
    const first = await action({job: 'image-gone', image: IMAGE}, on);
    assert.equal(first.code, 0, first.log.join('\n'));
    on.removeImage(IMAGE);

    // concurrency: allow writes no claim, so the job is not written again: only the execution sees the image gone.
    const result = await action({job: 'image-gone', image: IMAGE, concurrency: 'allow'}, on);
    assert.equal(on.callsTo('UpdateJob').length, 0, 'the job was not written again');
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'failed');
    assert.equal(result.outputs.exit_code, undefined);
    const reason =
      `Image '${IMAGE}' not found. Push the image with this same reference before this step; the Cloud Run service agent ` +
      '(service-PROJECT_NUMBER@serverless-robot-prod.iam.gserviceaccount.com) needs read access to it (roles/artifactregistry.reader).';
    assert.equal(failureLine(result, 'image-gone'), `could not start: ${reason}`);
    assert.equal(summaryReason(result), reason);
  });

  it('names a secret version that no longer resolves, and the role its runtime account needs', async (t) => {
    const version = `projects/${PROJECT}/secrets/db-url/versions/7`;
    const on = await emulatorWith(t, {secrets: {[version]: 'postgres://db'}});
    const inputs = {job: 'secret-gone', image: IMAGE, command: node('process.exit(process.env.DB_URL ? 0 : 2)'), secrets: 'DB_URL=db-url:7'};
    const first = await action(inputs, on);
    assert.equal(first.code, 0, first.log.join('\n'));
    on.removeSecret(version);

    const result = await action(inputs, on);
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'failed');
    assert.equal(result.outputs.exit_code, undefined);
    const reason =
      `spec.template.spec.containers[0].env[0].value_from.secret_key_ref.name: Secret ${version} was not found. ` +
      `Check that secret projects/${PROJECT}/secrets/db-url has a version 7, and that the job's runtime service account ` +
      "(the project's default compute service account, PROJECT_NUMBER-compute@developer.gserviceaccount.com) has roles/secretmanager.secretAccessor on it.";
    assert.equal(failureLine(result, 'secret-gone'), `could not start: ${reason}`);
    assert.equal(summaryReason(result), reason);
  });

  it('keeps the platform\'s message when the container cannot be started', async () => {
    const result = await action({job: 'no-binary', image: IMAGE, command: JSON.stringify(['migrate-nonexistent-binary']), logs: 'false'});
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'failed');
    assert.equal(result.outputs.exit_code, undefined);
    const reason =
      'the container could not be started: Application failed to start: exec: "migrate-nonexistent-binary": executable file not found in $PATH. ' +
      'Check the "command" input and the image\'s entrypoint.';
    assert.equal(failureLine(result, 'no-binary'), `failed after ${result.outputs.duration} s: ${reason}`);
    assert.equal(summaryReason(result), reason);
  });

  it('says how many attempts ran when the platform retried the task', async () => {
    const result = await action({job: 'retried', image: IMAGE, command: node('process.exit(3)'), max_retries: '2'});
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'failed');
    assert.equal(result.outputs.exit_code, '3');
    const reason = 'the container exited with code 3 on the last of 3 attempts: The container exited with an error.';
    assert.equal(failureLine(result, 'retried'), `failed after ${result.outputs.duration} s: ${reason}`);
    assert.equal(summaryReason(result), reason);
    assert.match(result.summary, /\| Exit code \| 3 \|/);
  });

  it('names the failed task of three by its index', async () => {
    const result = await action({
      job: 'three-tasks',
      image: IMAGE,
      command: node('process.exit(process.env.CLOUD_RUN_TASK_INDEX === "1" ? 4 : 0)'),
      task_count: '3',
    });
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'failed');
    assert.equal(result.outputs.exit_code, '4');
    assert.equal(result.outputs.succeeded_count, '2');
    assert.equal(result.outputs.failed_count, '1');
    const reason = 'the task with index 1 (of 3 tasks) exited with code 4: The container exited with an error.';
    assert.equal(failureLine(result, 'three-tasks'), `failed after ${result.outputs.duration} s: ${reason}`);
    assert.equal(summaryReason(result), reason);
  });

  it('says how many of several tasks failed, naming the first', async () => {
    const result = await action({
      job: 'two-fail',
      image: IMAGE,
      command: node('process.exit(process.env.CLOUD_RUN_TASK_INDEX === "0" ? 0 : 5)'),
      task_count: '3',
    });
    assert.equal(result.code, 1);
    assert.equal(result.outputs.exit_code, '5');
    assert.equal(result.outputs.failed_count, '2');
    const reason = '2 of 3 tasks failed; the first, with index 1, exited with code 5: The container exited with an error.';
    assert.equal(failureLine(result, 'two-fail'), `failed after ${result.outputs.duration} s: ${reason}`);
  });

  it('keeps the timeout verdict, with the timeout that was reached', async () => {
    const result = await action({job: 'slow-verdict', image: IMAGE, command: node('setTimeout(() => {}, 60000)'), timeout: '1s'});
    assert.equal(result.code, 1);
    assert.equal(result.outputs.status, 'timed_out');
    assert.equal(result.outputs.exit_code, undefined);
    const reason =
      'the container ran past the task timeout of 1 s: The configured timeout was reached. Raise the "timeout" input, or find out from the logs why it runs so long.';
    assert.equal(failureLine(result, 'slow-verdict'), `timed out after ${result.outputs.duration} s: ${reason}`);
    assert.equal(summaryReason(result), reason);
  });

  it('succeeds through a maintenance event: the task is paused, told with SIGTSTP and SIGCONT, and goes on', async () => {
    const script = [
      'process.on("SIGTSTP", () => console.log("got SIGTSTP"));',
      'process.on("SIGCONT", () => { console.log("got SIGCONT"); setTimeout(() => process.exit(0), 100); });',
      'console.log("ready"); setTimeout(() => process.exit(7), 20000);',
    ].join(' ');
    let migrated: Promise<boolean> | undefined;
    const result = await action({job: 'migrated', image: IMAGE, command: node(script)}, emulator, {
      onLine: (line) => {
        // Once the task's handlers are in place, as its first line shows.
        if (migrated || !line.endsWith('ready')) return;
        const execution = (emulator.executions(`projects/${PROJECT}/locations/${REGION}/jobs/migrated`)[0] as {name: string}).name;
        migrated = emulator.migrateTask(execution, {noticeMs: 100, pauseMs: 200});
      },
    });
    assert.equal(await migrated, true, 'the task was migrated while it ran');
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.deepEqual(errorsOf(result), []);
    assert.equal(result.outputs.status, 'succeeded');
    assert.equal(result.outputs.exit_code, '0');
    assert.ok(result.log.includes('got SIGTSTP') && result.log.includes('got SIGCONT'), result.log.join('\n'));
    const lines = systemLines(emulator, result.outputs.execution_id);
    assert.ok(lines.some((l) => l.includes('Task migration started')) && lines.some((l) => l.includes('Task migration finished')), lines.join('\n'));
  });
});
