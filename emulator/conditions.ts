// google.cloud.run.v2.Condition values, kept one per type in a resource's list.
import type {Timestamp} from './clock.ts';
import type {Message} from './protos.ts';

export type ConditionState = 'CONDITION_PENDING' | 'CONDITION_RECONCILING' | 'CONDITION_FAILED' | 'CONDITION_SUCCEEDED';

/** The `reasons` oneof: a CommonReason (`reason`) or an ExecutionReason. */
export type ConditionReason = {reason: string} | {executionReason: string};

export interface ConditionChange {
  type: string;
  state: ConditionState;
  message?: string;
  reason?: ConditionReason;
}

export function condition(change: ConditionChange, at: Timestamp): Message {
  // "Successful conditions cannot have a reason." (condition.proto)
  const reason = change.state === 'CONDITION_SUCCEEDED' ? undefined : change.reason;
  return {
    type: change.type,
    state: change.state,
    ...(change.message ? {message: change.message} : {}),
    lastTransitionTime: at,
    ...(change.state === 'CONDITION_FAILED' ? {severity: 'ERROR'} : {}),
    ...reason,
  };
}

/** Replaces the condition of the same type; last_transition_time moves only when the state changes. */
export function setCondition(conditions: Message[], change: ConditionChange, at: Timestamp): void {
  const index = conditions.findIndex(existing => existing.type === change.type);
  const previous = conditions[index];
  const next = condition(change, previous?.state === change.state ? previous.lastTransitionTime : at);
  if (index === -1) conditions.push(next);
  else conditions[index] = next;
}

export function findCondition(conditions: Message[] | undefined, type: string): Message | undefined {
  return conditions?.find(existing => existing.type === type);
}
