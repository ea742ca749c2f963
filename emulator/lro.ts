// The long-running operations the Jobs and Executions services return, and
// when each is done, per the operation_info of each method.
import {status} from '@grpc/grpc-js';
import {findCondition} from './conditions.ts';
import type {LocationName} from './names.ts';
import {EXECUTION_TYPE, type OperationRecord, type OperationResult} from './operations.ts';
import type {Message} from './protos.ts';
import type {Runtime} from './runtime.ts';
import type {ExecutionRecord} from './store.ts';

/** An operation that is done at once with `message` as its response. */
export function doneOperation(rt: Runtime, location: LocationName, typeName: string, message: Message): OperationRecord {
  const operation = rt.operations.create(location, typeName, () => message);
  rt.operations.finish(operation, {response: message});
  return operation;
}

/** An operation done when `result` settles, its metadata read from `metadata`. */
export function pendingOperation(
  rt: Runtime,
  location: LocationName,
  typeName: string,
  metadata: () => Message,
  result: Promise<OperationResult>,
): OperationRecord {
  const operation = rt.operations.create(location, typeName, metadata);
  void result.then(value => rt.operations.finish(operation, value));
  return operation;
}

/**
 * RunJob's result: the Execution when it succeeded or was cancelled (a
 * cancelled execution completes the operation without error), otherwise
 * FAILED_PRECONDITION with the Completed condition's message.
 */
function runResult(execution: Message): OperationResult {
  const completed = findCondition(execution.conditions, 'Completed');
  if (completed?.state === 'CONDITION_SUCCEEDED' || completed?.executionReason === 'CANCELLED') {
    return {response: execution};
  }
  return {error: {code: status.FAILED_PRECONDITION, message: completed?.message ?? 'The execution failed.'}};
}

/**
 * The operation of RunJob ('run') or CancelExecution ('cancel'), done when the
 * execution completes. Operations.CancelOperation cancels the execution, and
 * the operation then ends with code CANCELLED, as operations.proto specifies.
 */
export function executionOperation(rt: Runtime, record: ExecutionRecord, kind: 'run' | 'cancel'): OperationRecord {
  let cancelledByClient = false;
  const operation = rt.operations.create(
    record.name,
    EXECUTION_TYPE,
    () => record.execution,
    () => {
      cancelledByClient = true;
      record.run.cancel();
    },
  );
  void record.run.finished.then(() =>
    rt.operations.finish(
      operation,
      cancelledByClient
        ? {error: {code: status.CANCELLED, message: 'The operation was cancelled.'}}
        : kind === 'run'
          ? runResult(record.execution)
          : {response: record.execution},
    ),
  );
  return operation;
}
