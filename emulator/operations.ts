// google.longrunning.Operation records. An operation's metadata is read from
// its resource when asked for, so GetOperation shows the resource's current
// state; the result is fixed once the operation is done.
import {invalidArgument, notFound} from './errors.ts';
import {uuid} from './ids.ts';
import {type LocationName, locationPath, operationPath, parseOperationName} from './names.ts';
import type {Message, Protos} from './protos.ts';

export const JOB_TYPE = 'google.cloud.run.v2.Job';
export const EXECUTION_TYPE = 'google.cloud.run.v2.Execution';

/**
 * What WaitOperation does, which operations.proto leaves to each server: 'hold' until the operation
 * is done or the timeout passes; answer at once ('immediate', "best effort … including
 * immediately"); not exist ('unimplemented'); or fail every call with a status.
 */
export type WaitOperationBehaviour = 'hold' | 'immediate' | 'unimplemented' | {code: number; message: string};

export type OperationResult = {response: Message} | {error: {code: number; message: string}};

export interface OperationRecord {
  seq: number;
  name: string;
  location: LocationName;
  /** The operation_info type of both metadata and response. */
  typeName: string;
  metadata: () => Message;
  result?: OperationResult;
  /** Best-effort cancellation (Operations.CancelOperation). */
  cancel?: () => void;
  waiters: Set<() => void>;
}

export class Operations {
  readonly #records = new Map<string, OperationRecord>();
  #seq = 0;

  create(location: LocationName, typeName: string, metadata: () => Message, cancel?: () => void): OperationRecord {
    const where = {project: location.project, location: location.location};
    const name = operationPath({...where, operation: uuid()});
    const record = {seq: ++this.#seq, name, location: where, typeName, metadata, cancel, waiters: new Set<() => void>()};
    this.#records.set(name, record);
    return record;
  }

  /** Marks the operation done; the first result wins. */
  finish(record: OperationRecord, result: OperationResult): void {
    if (record.result) return;
    record.result = structuredClone(result);
    for (const waiter of record.waiters) waiter();
  }

  get(name: unknown): OperationRecord {
    parseOperationName(name, 'name');
    const record = this.#records.get(name as string);
    if (!record) throw notFound(`Operation '${name}' not found.`);
    return record;
  }

  list(location: LocationName, filter: string | undefined): OperationRecord[] {
    const doneFilter = /^\s*done\s*=\s*(true|false)\s*$/.exec(filter ?? '');
    if (filter?.trim() && !doneFilter) throw invalidArgument(`Invalid filter '${filter}': only 'done=true' or 'done=false' is supported`);
    return [...this.#records.values()].filter(
      record =>
        locationPath(record.location) === locationPath(location) &&
        (!doneFilter || String(Boolean(record.result)) === doneFilter[1]),
    );
  }

  delete(name: unknown): void {
    this.#records.delete(this.get(name).name);
  }

  /** Resolves when the operation is done, `timeoutMs` elapsed, or `signal` aborts. */
  wait(record: OperationRecord, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (record.result || signal.aborted) return Promise.resolve();
    return new Promise(resolve => {
      const finish = () => {
        clearTimeout(timer);
        record.waiters.delete(finish);
        signal.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      record.waiters.add(finish);
      signal.addEventListener('abort', finish);
    });
  }
}

export function operationMessage(record: OperationRecord, protos: Protos): Message {
  const result = record.result;
  return {
    name: record.name,
    metadata: protos.pack(record.typeName, record.metadata()),
    done: Boolean(result),
    ...(result && 'response' in result ? {response: protos.pack(record.typeName, result.response)} : {}),
    ...(result && 'error' in result ? {error: result.error} : {}),
  };
}
