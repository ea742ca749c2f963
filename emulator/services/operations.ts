// google.longrunning.Operations: GetOperation, ListOperations, DeleteOperation,
// CancelOperation and WaitOperation, served on the same port as the Cloud Run API.
import {durationMs} from '../clock.ts';
import {RpcError, unimplemented} from '../errors.ts';
import {parseLocation} from '../names.ts';
import {operationMessage} from '../operations.ts';
import {paginate} from '../paging.ts';
import type {Message} from '../protos.ts';
import type {CallContext, Service} from '../rpc.ts';
import type {Runtime} from '../runtime.ts';

const DEFAULT_PAGE_SIZE = 100;
// "If the timeout specified is greater than the default HTTP/RPC timeout, the HTTP/RPC timeout is used."
const MAX_WAIT_MS = 60_000;
// Answer a little before the call's own deadline, so the client gets the state rather than DEADLINE_EXCEEDED.
const DEADLINE_MARGIN_MS = 50;

async function waitOperation(rt: Runtime, request: Message, context: CallContext): Promise<Message> {
  const behaviour = rt.options.waitOperation;
  if (behaviour === 'unimplemented') throw unimplemented('The Cloud Run emulator does not implement google.longrunning.Operations/WaitOperation.');
  if (typeof behaviour === 'object') throw new RpcError(behaviour.code, behaviour.message);
  const operation = rt.operations.get(request.name);
  if (behaviour === 'immediate') return operationMessage(operation, rt.protos);
  const requested = request.timeout ? durationMs(request.timeout) : MAX_WAIT_MS;
  const timeoutMs = Math.max(0, Math.min(requested, MAX_WAIT_MS, context.deadline - DEADLINE_MARGIN_MS - Date.now()));
  await rt.operations.wait(operation, timeoutMs, context.signal);
  return operationMessage(operation, rt.protos);
}

function listOperations(rt: Runtime, request: Message): Message {
  const location = parseLocation(request.name, 'name');
  const operations = rt.operations.list(location, request.filter);
  const scope = `operations:${request.name}:${request.filter ?? ''}`;
  const page = paginate(operations, record => [-record.seq], request, scope, DEFAULT_PAGE_SIZE);
  return {operations: page.items.map(record => operationMessage(record, rt.protos)), nextPageToken: page.nextPageToken};
}

export function operationsService(rt: Runtime): Service {
  return {
    name: 'google.longrunning.Operations',
    methods: {
      GetOperation: {
        authorize: r => [{permission: 'run.operations.get', resource: r.name}],
        handle: r => operationMessage(rt.operations.get(r.name), rt.protos),
      },
      ListOperations: {
        authorize: r => [{permission: 'run.operations.list', resource: r.name}],
        handle: r => listOperations(rt, r),
      },
      DeleteOperation: {
        authorize: r => [{permission: 'run.operations.delete', resource: r.name}],
        handle: r => {
          rt.operations.delete(r.name);
          return {};
        },
      },
      CancelOperation: {
        authorize: r => [{permission: 'run.operations.cancel', resource: r.name}],
        handle: r => {
          const operation = rt.operations.get(r.name);
          if (!operation.result) operation.cancel?.();
          return {};
        },
      },
      WaitOperation: {
        authorize: r => [{permission: 'run.operations.get', resource: r.name}],
        handle: (r, context) => waitOperation(rt, r, context),
      },
    },
  };
}
