// The emulator's resources: jobs, and executions with their tasks. Messages are
// kept as the API shows them (plain objects, camelCase) and updated in place.
import {notFound} from './errors.ts';
import {type ExecutionName, type JobName, executionPath, jobPath} from './names.ts';
import type {Message} from './protos.ts';
import type {TaskFailure} from './outcomes.ts';

export interface JobRecord {
  seq: number;
  name: JobName;
  job: Message;
}

export type TaskPhase = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskRecord {
  task: Message;
  phase: TaskPhase;
  failure?: TaskFailure;
}

/** What the store needs of the machinery running an execution (the scheduler's ExecutionRun). */
export interface ExecutionControl {
  /** Settles once the execution started running its tasks, or ended without starting. */
  readonly started: Promise<void>;
  /** Settles once the execution's Completed condition left PENDING. */
  readonly finished: Promise<void>;
  cancel(): void;
  kill(): Promise<void>;
  migrate(taskIndex: number, timing: MigrationTiming): Promise<boolean>;
}

/** A maintenance event's timing: SIGTSTP `noticeMs` before the pause, SIGCONT `pauseMs` after it begins. */
export interface MigrationTiming {
  noticeMs: number;
  pauseMs: number;
}

export interface ExecutionRecord {
  seq: number;
  name: ExecutionName;
  execution: Message;
  tasks: TaskRecord[];
  deleted: boolean;
  run: ExecutionControl;
}

/** The message Cloud Run returns for a resource it does not have. */
export function resourceNotFound(kind: 'JOB' | 'EXECUTION' | 'TASK', id: string, where: JobName | ExecutionName | {project: string; location: string}) {
  return notFound(`Resource '${id}' of kind '${kind}' in region '${where.location}' in project '${where.project}' does not exist.`);
}

export const isComplete = (record: ExecutionRecord): boolean => record.execution.completionTime !== undefined;

export class Store {
  readonly jobs = new Map<string, JobRecord>();
  readonly executions = new Map<string, ExecutionRecord>();
  #seq = 0;

  /** Creation order, shared by all resources. */
  nextSeq(): number {
    return ++this.#seq;
  }

  job(name: JobName): JobRecord {
    const record = this.jobs.get(jobPath(name));
    if (!record) throw resourceNotFound('JOB', name.job, name);
    return record;
  }

  /** A live (not deleted) execution. */
  execution(name: ExecutionName): ExecutionRecord {
    const record = this.executions.get(executionPath(name));
    if (!record || record.deleted) throw resourceNotFound('EXECUTION', name.execution, name);
    return record;
  }
}
