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
  const cases: Array<[string, ReturnType<typeof execution>, object[], object]> = [
    ['a success', execution({state: 'CONDITION_SUCCEEDED'}, {succeededCount: 1}), [], {status: 'succeeded', exitCode: 0}],
    [
      'a success that does not add up',
      execution({state: 'CONDITION_SUCCEEDED'}, {succeededCount: 0}),
      [],
      {status: 'failed', what: 'reported success, but only 0 of 1 tasks succeeded'},
    ],
    [
      'a non-zero exit',
      execution({state: 'CONDITION_FAILED', executionReason: 'NON_ZERO_EXIT_CODE', message: 'Task x-task0 failed with message: The container exited with an error.'}, {failedCount: 1}),
      [task({exitCode: 3, status: {code: 2, message: 'The container exited with an error.'}})],
      {status: 'failed', exitCode: 3, what: 'exited with code 3'},
    ],
    [
      'a timeout',
      execution({state: 'CONDITION_FAILED', message: 'Task x-task0 failed with message: The configured timeout was reached.'}, {failedCount: 1}),
      [task({termSignal: 15, status: {code: 4, message: 'The configured timeout was reached.'}})],
      {status: 'timed_out'},
    ],
    [
      'a cancellation',
      execution({state: 'CONDITION_FAILED', executionReason: 'CANCELLED', message: 'The execution was cancelled.'}, {cancelledCount: 1}),
      [],
      {status: 'cancelled', what: 'was cancelled'},
    ],
    [
      'a missing image',
      execution({state: 'CONDITION_FAILED', reason: 'CONTAINER_MISSING', message: "Image 'app:9' not found."}),
      [],
      {status: 'failed', what: "could not start: Image 'app:9' not found."},
    ],
    [
      'a kill by signal',
      execution({state: 'CONDITION_FAILED', executionReason: 'NON_ZERO_EXIT_CODE'}, {failedCount: 1}),
      [task({termSignal: 9, status: {code: 2}})],
      {status: 'failed', what: 'was killed by signal 9'},
    ],
  ];
  for (const [name, exec, tasks, expected] of cases) {
    it(`reads ${name}`, () => {
      const outcome = judge(exec as never, tasks as never);
      for (const [key, value] of Object.entries(expected)) assert.equal(outcome[key as keyof typeof outcome], value, key);
    });
  }
});

describe('seconds', () => {
  it('measures between two timestamps to a tenth', () => {
    assert.equal(seconds({seconds: '1700000000', nanos: 0}, done), 10.5);
    assert.equal(seconds(undefined, done), undefined);
  });
});
