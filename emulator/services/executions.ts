// google.cloud.run.v2.Executions: GetExecution, ListExecutions, DeleteExecution, CancelExecution.
import {timestamp} from '../clock.ts';
import {failedPrecondition} from '../errors.ts';
import {doneOperation, executionOperation} from '../lro.ts';
import {locationPath, parseExecutionName, parseJobName} from '../names.ts';
import {EXECUTION_TYPE, type OperationRecord, operationMessage} from '../operations.ts';
import {paginate} from '../paging.ts';
import type {Message} from '../protos.ts';
import type {Service} from '../rpc.ts';
import type {Runtime} from '../runtime.ts';
import {isComplete} from '../store.ts';
import {checkEtag} from './checks.ts';

const DEFAULT_PAGE_SIZE = 100;
const DELETED_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

function listExecutions(rt: Runtime, request: Message): Message {
  const parent = parseJobName(request.parent, 'parent', true);
  // "To list all Executions across Jobs, use "-" instead of Job name."
  if (parent.job !== '-') rt.store.job(parent);
  const executions = [...rt.store.executions.values()].filter(
    record =>
      locationPath(record.name) === locationPath(parent) &&
      (parent.job === '-' || record.name.job === parent.job) &&
      (!record.deleted || request.showDeleted),
  );
  // "Results are sorted by creation time, descending."
  const scope = `executions:${request.parent}:${Boolean(request.showDeleted)}`;
  const page = paginate(executions, record => [-record.seq], request, scope, DEFAULT_PAGE_SIZE);
  return {executions: page.items.map(record => structuredClone(record.execution)), nextPageToken: page.nextPageToken};
}

function deleteExecution(rt: Runtime, request: Message): OperationRecord {
  const name = parseExecutionName(request.name, 'name');
  const record = rt.store.execution(name);
  checkEtag(request.etag, record.execution);
  if (!isComplete(record)) {
    throw failedPrecondition(`Execution '${name.execution}' is still running; cancel it before deleting it.`);
  }
  if (request.validateOnly) return doneOperation(rt, name, EXECUTION_TYPE, structuredClone(record.execution));
  const now = rt.clock.nowMicros();
  record.deleted = true;
  record.execution.deleteTime = timestamp(now);
  record.execution.expireTime = timestamp(now + DELETED_RETENTION_MS * 1000);
  return doneOperation(rt, name, EXECUTION_TYPE, structuredClone(record.execution));
}

function cancelExecution(rt: Runtime, request: Message): OperationRecord {
  const name = parseExecutionName(request.name, 'name');
  const record = rt.store.execution(name);
  checkEtag(request.etag, record.execution);
  if (isComplete(record)) throw failedPrecondition(`Execution '${name.execution}' has already completed and cannot be cancelled.`);
  if (request.validateOnly) return doneOperation(rt, name, EXECUTION_TYPE, structuredClone(record.execution));
  record.run.cancel();
  return executionOperation(rt, record, 'cancel');
}

export function executionsService(rt: Runtime): Service {
  const operation = (record: OperationRecord) => operationMessage(record, rt.protos);
  return {
    name: 'google.cloud.run.v2.Executions',
    methods: {
      GetExecution: {
        authorize: r => [{permission: 'run.executions.get', resource: r.name}],
        handle: r => structuredClone(rt.store.execution(parseExecutionName(r.name, 'name')).execution),
      },
      ListExecutions: {
        authorize: r => [{permission: 'run.executions.list', resource: r.parent}],
        handle: r => listExecutions(rt, r),
      },
      DeleteExecution: {
        authorize: r => [{permission: 'run.executions.delete', resource: r.name}],
        handle: r => operation(deleteExecution(rt, r)),
      },
      CancelExecution: {
        authorize: r => [{permission: 'run.executions.cancel', resource: r.name}],
        handle: r => operation(cancelExecution(rt, r)),
      },
    },
  };
}
