// Job resources: the output-only fields the server computes on create and
// update, and the execution a start/run_execution_token asks for.
import {status} from '@grpc/grpc-js';
import type {Timestamp} from './clock.ts';
import {findCondition, setCondition, type ConditionState} from './conditions.ts';
import {alreadyExists} from './errors.ts';
import {createExecution} from './executions.ts';
import {newEtag, uuid} from './ids.ts';
import {type JobName, executionPath, jobPath} from './names.ts';
import type {OperationResult} from './operations.ts';
import type {Message} from './protos.ts';
import {PRINCIPAL, type Runtime} from './runtime.ts';
import type {ExecutionRecord, JobRecord} from './store.ts';
import {validateExecutionToken} from './validation.ts';

const tokenOf = (spec: Message): string | undefined => spec.startExecutionToken || spec.runExecutionToken || undefined;

function setReady(job: Message, state: ConditionState, at: Timestamp, message?: string): void {
  const conditions = job.terminalCondition ? [job.terminalCondition] : [];
  setCondition(conditions, {type: 'Ready', state, message}, at);
  job.terminalCondition = conditions[0];
}

/** A Job as the server would store it for `spec`; `previous` is the stored job an update replaces. */
export function jobMessage(rt: Runtime, name: JobName, spec: Message, previous?: Message): Message {
  const now = rt.clock.now();
  const generation = String(Number(previous?.generation ?? 0) + 1);
  const job: Message = {
    ...structuredClone(spec),
    name: jobPath(name),
    uid: previous?.uid ?? uuid(),
    generation,
    createTime: previous?.createTime ?? now,
    updateTime: now,
    creator: previous?.creator ?? PRINCIPAL,
    lastModifier: PRINCIPAL,
    launchStage: spec.launchStage ?? 'GA',
    observedGeneration: generation,
    terminalCondition: previous?.terminalCondition,
    conditions: [],
    executionCount: previous?.executionCount ?? 0,
    latestCreatedExecution: previous?.latestCreatedExecution,
    reconciling: false,
    etag: newEtag(),
  };
  setReady(job, 'CONDITION_SUCCEEDED', now);
  return job;
}

/** Marks a stored job as not ready: its write was kept, but could not be deployed. */
export function failReady(rt: Runtime, record: JobRecord, message: string): void {
  setReady(record.job, 'CONDITION_FAILED', rt.clock.now(), message);
}

/** Rejects a token that is malformed or whose execution already exists. */
export function checkExecutionToken(rt: Runtime, name: JobName, spec: Message): void {
  const token = tokenOf(spec);
  if (!token) return;
  validateExecutionToken(name.job, token, spec.startExecutionToken ? 'job.start_execution_token' : 'job.run_execution_token');
  const execution = `${name.job}-${token}`;
  if (rt.store.executions.has(executionPath({...name, execution}))) {
    throw alreadyExists(`Resource '${execution}' already exists.`);
  }
}

/** Why a token execution did not make the job ready, if it did not. */
function tokenFailure(execution: ExecutionRecord, awaited: 'started' | 'finished'): string | undefined {
  const completed = findCondition(execution.execution.conditions, 'Completed');
  const ok = awaited === 'started' ? Boolean(execution.execution.startTime) : completed?.state === 'CONDITION_SUCCEEDED';
  return ok ? undefined : (completed?.message ?? 'The execution did not complete.');
}

/**
 * Creates the execution `<job>-<token>` when the job carries a token. "The Job
 * will become ready when the execution is successfully started" (start token)
 * or "completed" (run token): the returned promise settles with the create or
 * update operation's result at that point.
 */
export function runTokenExecution(rt: Runtime, record: JobRecord): Promise<OperationResult> | undefined {
  const token = tokenOf(record.job);
  if (!token) return undefined;
  const awaited = record.job.startExecutionToken ? 'started' : 'finished';
  const generation = record.job.generation;
  setReady(record.job, 'CONDITION_RECONCILING', rt.clock.now());
  record.job.reconciling = true;
  const execution = createExecution(rt, record, `${record.name.job}-${token}`);
  return execution.run[awaited].then(() => {
    const failure = tokenFailure(execution, awaited);
    if (record.job.generation === generation) {
      setReady(record.job, failure ? 'CONDITION_FAILED' : 'CONDITION_SUCCEEDED', rt.clock.now(), failure);
      record.job.reconciling = false;
    }
    return failure
      ? {error: {code: status.FAILED_PRECONDITION, message: failure}}
      : {response: structuredClone(record.job)};
  });
}
