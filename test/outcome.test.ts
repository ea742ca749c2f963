import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {Execution} from '../src/clients.ts';
import {isFinished, judge, seconds} from '../src/outcome.ts';

const done = {seconds: '1700000010', nanos: 500_000_000};
const execution = (completed: Record<string, unknown>, counts: Record<string, number> = {}): Execution => ({
  taskCount: 1,
  completionTime: done,
  conditions: [{type: 'Started', state: 'CONDITION_SUCCEEDED'}, {type: 'Completed', ...completed}] as Execution['conditions'],
  ...counts,
});
const task = (result: Record<string, unknown>) => ({index: 0, lastAttemptResult: result});

describe('isFinished', () => {
  it('is false while Completed is pending, even with a completion time', () => {
    assert.equal(isFinished(execution({state: 'CONDITION_PENDING'})), false);
    assert.equal(isFinished({...execution({state: 'CONDITION_SUCCEEDED'}), completionTime: null}), false);
    assert.equal(isFinished({conditions: []}), false);
  });
  it('accepts the numeric enums of operation payloads', () => {
    assert.equal(isFinished(execution({state: 4})), true);
  });
});

describe('judge', () => {
  const failed = (completed: Record<string, unknown>, counts: Record<string, unknown> = {}) =>
    execution({state: 'CONDITION_FAILED', ...completed}, {failedCount: 1, ...counts} as never);
  const notStarted = (completed: Record<string, unknown>): Execution => ({
    ...failed(completed),
    conditions: [{type: 'Started', state: 'CONDITION_FAILED'}, {type: 'Completed', state: 'CONDITION_FAILED', ...completed}] as Execution['conditions'],
  });
  const cases: Array<[string, Execution, object[], object]> = [
    ['a success', execution({state: 'CONDITION_SUCCEEDED'}, {succeededCount: 1}), [], {status: 'succeeded', exitCode: 0, ended: 'succeeded'}],
    [
      'a success that does not add up',
      execution({state: 'CONDITION_SUCCEEDED'}, {succeededCount: 0}),
      [],
      {status: 'failed', reason: 'Cloud Run reported success, but only 0 of 1 tasks succeeded.'},
    ],
    [
      'a non-zero exit, keeping the attempt\'s message',
      failed({executionReason: 'NON_ZERO_EXIT_CODE', message: 'Task x-task0 failed with message: The container exited with an error.'}),
      [task({exitCode: 3, status: {code: 2, message: 'The container exited with an error.'}})],
      {status: 'failed', exitCode: 3, ended: 'failed', reason: 'the container exited with code 3: The container exited with an error.'},
    ],
    [
      'a timeout, with the timeout it ran past',
      {...failed({message: 'Task x-task0 failed with message: The configured timeout was reached.'}), template: {timeout: {seconds: '60'}}},
      [task({termSignal: 15, status: {code: 4, message: 'The configured timeout was reached.'}})],
      {
        status: 'timed_out',
        exitCode: undefined,
        ended: 'timed out',
        reason: 'the container ran past the task timeout of 60 s: The configured timeout was reached. Raise the "timeout" input, or find out from the logs why it runs so long.',
      },
    ],
    [
      'a timeout from the condition alone, when no task is listed',
      failed({message: 'Task x-task0 failed with message: The configured timeout was reached.'}),
      [],
      {status: 'timed_out'},
    ],
    [
      'a cancellation',
      execution({state: 'CONDITION_FAILED', executionReason: 'CANCELLED', message: 'The execution was cancelled.'}, {cancelledCount: 1}),
      [],
      {status: 'cancelled', ended: 'was cancelled', reason: 'Someone cancelled it in Cloud Run (the console, gcloud, or another run with concurrency: cancel).'},
    ],
    [
      'an image missing when the execution started',
      notStarted({reason: 'CONTAINER_MISSING', message: "Image 'app:9' not found."}),
      [],
      {status: 'failed', ended: 'could not start', ran: false},
    ],
    [
      'a secret that does not resolve, naming the secret, its version and the runtime account',
      {
        ...notStarted({
          reason: 'SECRETS_ACCESS_CHECK_FAILED',
          message: 'spec.template.spec.containers[0].env[0].value_from.secret_key_ref.name: Secret projects/p/secrets/db/versions/7 was not found',
        }),
        template: {serviceAccount: 'migrate@p.iam.gserviceaccount.com'},
      },
      [],
      {
        status: 'failed',
        ended: 'could not start',
        reason:
          'spec.template.spec.containers[0].env[0].value_from.secret_key_ref.name: Secret projects/p/secrets/db/versions/7 was not found. ' +
          "Check that secret projects/p/secrets/db has a version 7, and that the job's runtime service account (migrate@p.iam.gserviceaccount.com) has roles/secretmanager.secretAccessor on it.",
      },
    ],
    [
      'a secret that does not resolve, known by its message alone',
      notStarted({reason: 16, message: 'Secret projects/p/secrets/db/versions/latest was not found'}),
      [],
      {ended: 'could not start', ran: false},
    ],
    [
      'an out-of-memory kill shown as a signal, with the default limit',
      failed({message: 'Task x-task0 failed with message: The configured memory limit was reached.'}),
      [task({termSignal: 9, status: {code: 8, message: 'The configured memory limit was reached.'}})],
      {
        status: 'failed',
        exitCode: undefined,
        reason: 'the container went over its memory limit of 512Mi (Cloud Run\'s default): The configured memory limit was reached. Raise the "memory" input.',
      },
    ],
    [
      'an out-of-memory kill shown as exit code 137, with the limit set',
      {...failed({}), template: {containers: [{resources: {limits: {memory: '1Gi'}}}]}},
      [task({exitCode: 137, status: {code: 8, message: 'The configured memory limit was reached.'}})],
      {exitCode: undefined, reason: 'the container went over its memory limit of 1Gi: The configured memory limit was reached. Raise the "memory" input.'},
    ],
    [
      'a container that could not be started, keeping the platform\'s message',
      failed({message: 'Task x-task0 failed with message: Application failed to start: exec: "migrate": executable file not found in $PATH'}),
      [task({status: {code: 2, message: 'Application failed to start: exec: "migrate": executable file not found in $PATH'}})],
      {
        status: 'failed',
        reason: 'the container could not be started: Application failed to start: exec: "migrate": executable file not found in $PATH. Check the "command" input and the image\'s entrypoint.',
      },
    ],
    [
      'a task retried by the platform, saying how many attempts ran',
      failed({executionReason: 'NON_ZERO_EXIT_CODE'}),
      [{...task({exitCode: 3, status: {code: 2, message: 'The container exited with an error.'}}), retried: 2}],
      {exitCode: 3, reason: 'the container exited with code 3 on the last of 3 attempts: The container exited with an error.'},
    ],
    [
      'the failed task of three, by its index',
      failed({executionReason: 'NON_ZERO_EXIT_CODE'}, {taskCount: 3, succeededCount: 2}),
      [
        {index: 0, lastAttemptResult: {status: {code: 0}, exitCode: 0}},
        {index: 1, lastAttemptResult: {exitCode: 4, status: {code: 2, message: 'The container exited with an error.'}}},
        {index: 2, lastAttemptResult: {status: {code: 0}, exitCode: 0}},
      ],
      {exitCode: 4, reason: 'the task with index 1 (of 3 tasks) exited with code 4: The container exited with an error.'},
    ],
    [
      'the first of several failed tasks',
      failed({executionReason: 'NON_ZERO_EXIT_CODE'}, {taskCount: 3, failedCount: 2}),
      [
        {index: 2, lastAttemptResult: {exitCode: 5, status: {code: 2, message: 'The container exited with an error.'}}},
        {index: 1, lastAttemptResult: {exitCode: 4, status: {code: 2, message: 'The container exited with an error.'}}},
      ],
      {exitCode: 4, reason: '2 of 3 tasks failed; the first, with index 1, exited with code 4: The container exited with an error.'},
    ],
    [
      'a kill by signal',
      failed({executionReason: 'NON_ZERO_EXIT_CODE'}),
      [task({termSignal: 9, status: {code: 2}})],
      {status: 'failed', exitCode: undefined, reason: 'the container was stopped by signal 9.'},
    ],
  ];
  for (const [name, exec, tasks, expected] of cases) {
    it(`reads ${name}`, () => {
      const outcome = judge(exec as never, tasks as never);
      for (const [key, value] of Object.entries(expected)) assert.equal(outcome[key as keyof typeof outcome], value, key);
    });
  }

  it('says to push a missing image with the same reference, and that the service agent must read it', () => {
    const {reason} = judge(notStarted({reason: 'CONTAINER_MISSING', message: "Image 'app:9' not found."}), []);
    assert.match(reason ?? '', /^Image 'app:9' not found\. Push the image with this same reference before this step; the Cloud Run service agent .* needs read access to it/);
  });
});

describe('seconds', () => {
  it('measures between two timestamps to a tenth', () => {
    assert.equal(seconds({seconds: '1700000000', nanos: 0}, done), 10.5);
    assert.equal(seconds(undefined, done), undefined);
  });
});
