// Runs one execution: provisions it (image and secrets), runs its tasks as
// local processes up to `parallelism` at a time with up to `max_retries`
// retries each, and keeps the Execution's and Tasks' conditions, counts and
// timestamps consistent at every step. Cancellation stops running attempts as
// a timeout does (SIGTERM, then SIGKILL after the grace period).
import {setTimeout as sleep} from 'node:timers/promises';
import {durationMs} from './clock.ts';
import {type ConditionChange, setCondition} from './conditions.ts';
import {randomHex} from './ids.ts';
import {type Launch, type LaunchFailure, resolveLaunch} from './launch.ts';
import {STREAM_SEVERITY, type TaskLogSource} from './logging.ts';
import {jobPath} from './names.ts';
import {MIGRATION_LINES, type SystemLine, TASK_CANCELLED_MESSAGE, type TaskFailure, describeOutcome, memoryLine, timeoutLine} from './outcomes.ts';
import {Attempt} from './runner.ts';
import type {Runtime} from './runtime.ts';
import type {ExecutionControl, ExecutionRecord, MigrationTiming, TaskPhase, TaskRecord} from './store.ts';

export class ExecutionRun implements ExecutionControl {
  /** Settles once the execution started running its tasks, or ended without starting. */
  readonly started: Promise<void>;
  /** Settles once the execution's Completed condition left PENDING. */
  readonly finished: Promise<void>;
  readonly #rt: Runtime;
  readonly #record: ExecutionRecord;
  readonly #attempts = new Set<Attempt>();
  /** The running attempt of each task, by index, and where its platform lines go. */
  readonly #running = new Map<number, {attempt: Attempt; system(line: SystemLine): void}>();
  readonly #queue: TaskRecord[];
  #cancelling = false;
  #startFailure?: LaunchFailure;
  #markStarted!: () => void;
  #markFinished!: () => void;

  constructor(rt: Runtime, record: ExecutionRecord) {
    this.#rt = rt;
    this.#record = record;
    this.#queue = [...record.tasks];
    this.started = new Promise(resolve => (this.#markStarted = resolve));
    this.finished = new Promise(resolve => (this.#markFinished = resolve));
    // Start after the creating call answered: its LRO metadata shows the execution PENDING.
    setImmediate(() => void this.#run());
  }

  /** CancelExecution: tasks not started are cancelled, running attempts are stopped. */
  cancel(): void {
    if (this.#cancelling || this.#record.execution.completionTime) return;
    this.#cancelling = true;
    this.#setExecutionCondition({
      type: 'Completed',
      state: 'CONDITION_PENDING',
      message: 'The execution is being cancelled.',
      reason: {executionReason: 'CANCELLING'},
    });
    for (const task of this.#queue.splice(0)) this.#finishTask(task, 'cancelled');
    for (const attempt of this.#attempts) attempt.cancel();
    this.#touch();
  }

  /** Emulator shutdown: cancels, but with SIGKILL at once, and waits for the processes to end. */
  async kill(): Promise<void> {
    this.cancel();
    const attempts = [...this.#attempts];
    for (const attempt of attempts) attempt.kill();
    await Promise.all(attempts.map(attempt => attempt.outcome));
  }

  /**
   * A maintenance event: the task's processes get SIGTSTP, are paused `noticeMs` later while the
   * task "moves", and get SIGCONT after `pauseMs`. The attempt goes on, as a live migration keeps
   * the task's state. False when the task has no running attempt.
   */
  async migrate(taskIndex: number, {noticeMs, pauseMs}: MigrationTiming): Promise<boolean> {
    const running = this.#running.get(taskIndex);
    if (!running?.attempt.send('SIGTSTP')) return false;
    await sleep(noticeMs);
    if (!running.attempt.send('SIGSTOP')) return false;
    running.system(MIGRATION_LINES.started);
    await sleep(pauseMs);
    if (!running.attempt.send('SIGCONT')) return false;
    running.system(MIGRATION_LINES.finished);
    return true;
  }

  async #run(): Promise<void> {
    const {execution} = this.#record;
    if (this.#cancelling) return this.#complete();
    const resolved = resolveLaunch(execution.template.containers[0], {
      project: this.#record.name.project,
      job: this.#record.name.job,
      execution: this.#record.name.execution,
      taskCount: execution.taskCount,
      options: this.#rt.options,
    });
    if ('failure' in resolved) return this.#failToStart(resolved.failure);
    this.#setExecutionCondition({type: 'ResourcesAvailable', state: 'CONDITION_SUCCEEDED'});
    this.#setExecutionCondition({type: 'Started', state: 'CONDITION_SUCCEEDED'});
    execution.startTime = execution.updateTime;
    this.#syncJob('EXECUTION_RUNNING');
    this.#markStarted();
    const worker = async () => {
      for (let task = this.#queue.shift(); task; task = this.#queue.shift()) await this.#runTask(task, resolved.launch);
    };
    await Promise.all(Array.from({length: execution.parallelism}, worker));
    this.#complete();
  }

  async #runTask(task: TaskRecord, launch: Launch): Promise<void> {
    const {task: message} = task;
    const timeoutMs = durationMs(message.timeout);
    message.scheduledTime = this.#rt.clock.now();
    for (let attempt = 0; ; attempt++) {
      if (this.#cancelling) return this.#finishTask(task, 'cancelled');
      const now = this.#rt.clock.now();
      task.phase = 'running';
      message.startTime = now;
      setCondition(message.conditions, {type: 'Started', state: 'CONDITION_SUCCEEDED'}, now);
      this.#touch(task, now);
      const source: TaskLogSource = {...this.#record.name, taskIndex: message.index, attempt, instanceId: randomHex(32)};
      const log = (stream: 'stdout' | 'stderr' | 'system', severity: string, text: string) =>
        this.#rt.logs.write(source, stream, severity, text);
      const running = new Attempt({
        ...launch,
        env: {...launch.env, CLOUD_RUN_TASK_INDEX: String(message.index), CLOUD_RUN_TASK_ATTEMPT: String(attempt)},
        timeoutMs,
        killGraceMs: this.#rt.options.killGraceMs,
        onLine: (stream, text) => log(stream, STREAM_SEVERITY[stream], text),
        onTimeout: () => {
          const line = timeoutLine(timeoutMs);
          log('system', line.severity, line.text);
        },
        onMemoryExceeded: used => {
          const line = memoryLine(launch.memoryLimit, used);
          log('system', line.severity, line.text);
        },
      });
      this.#attempts.add(running);
      this.#running.set(message.index, {attempt: running, system: line => log('system', line.severity, line.text)});
      const outcome = await running.outcome;
      this.#attempts.delete(running);
      this.#running.delete(message.index);
      const report = describeOutcome(outcome, this.#rt.options.outOfMemory);
      for (const line of report.systemLines) log('system', line.severity, line.text);
      message.lastAttemptResult = report.result;
      if (report.succeeded) return this.#finishTask(task, 'succeeded');
      if (outcome.cancelled) return this.#finishTask(task, 'cancelled');
      if (attempt >= message.maxRetries) return this.#finishTask(task, 'failed', report.failure);
      message.retried = attempt + 1;
      this.#touch(task);
    }
  }

  #finishTask(task: TaskRecord, phase: TaskPhase, failure?: TaskFailure): void {
    const now = this.#rt.clock.now();
    task.phase = phase;
    task.failure = failure;
    task.task.completionTime = now;
    task.task.reconciling = false;
    const completed: ConditionChange =
      phase === 'succeeded'
        ? {type: 'Completed', state: 'CONDITION_SUCCEEDED'}
        : phase === 'cancelled'
          ? {type: 'Completed', state: 'CONDITION_FAILED', message: TASK_CANCELLED_MESSAGE, reason: {executionReason: 'CANCELLED'}}
          : {type: 'Completed', state: 'CONDITION_FAILED', message: failure?.message, reason: failure?.reason};
    setCondition(task.task.conditions, completed, now);
    this.#touch(task, now);
  }

  #failToStart(failure: LaunchFailure): void {
    this.#startFailure = failure;
    for (const type of ['ResourcesAvailable', 'Started']) {
      this.#setExecutionCondition({type, state: 'CONDITION_FAILED', message: failure.message, reason: failure.reason});
    }
    for (const task of this.#queue.splice(0)) this.#finishTask(task, 'failed', failure);
    this.#complete();
  }

  #complete(): void {
    const {execution, tasks} = this.#record;
    const failed = tasks.find(task => task.phase === 'failed');
    let completed: ConditionChange;
    let status: string;
    if (this.#startFailure) {
      completed = {type: 'Completed', state: 'CONDITION_FAILED', ...this.#startFailure};
      status = 'EXECUTION_FAILED';
    } else if (this.#cancelling && tasks.some(task => task.phase === 'cancelled')) {
      completed = {type: 'Completed', state: 'CONDITION_FAILED', message: 'The execution was cancelled.', reason: {executionReason: 'CANCELLED'}};
      status = 'EXECUTION_CANCELLED';
    } else if (failed) {
      const taskId = String(failed.task.name).split('/').pop();
      completed = {
        type: 'Completed',
        state: 'CONDITION_FAILED',
        message: `Task ${taskId} failed with message: ${failed.failure?.message}`,
        reason: failed.failure?.reason,
      };
      status = 'EXECUTION_FAILED';
    } else {
      completed = {type: 'Completed', state: 'CONDITION_SUCCEEDED', message: 'Execution completed successfully.'};
      status = 'EXECUTION_SUCCEEDED';
    }
    // completion_time is set together with Completed leaving PENDING.
    this.#setExecutionCondition(completed);
    execution.completionTime = execution.updateTime;
    execution.reconciling = false;
    this.#syncJob(status);
    this.#markStarted();
    this.#markFinished();
  }

  /** Sets a condition; update_time becomes its transition time. */
  #setExecutionCondition(change: ConditionChange): void {
    const now = this.#rt.clock.now();
    setCondition(this.#record.execution.conditions, change, now);
    this.#touch(undefined, now);
  }

  /** Recomputes the execution's counts from its tasks' phases. */
  #touch(task?: TaskRecord, now = this.#rt.clock.now()): void {
    const {execution, tasks} = this.#record;
    const count = (phase: TaskPhase) => tasks.filter(t => t.phase === phase).length;
    execution.runningCount = count('running');
    execution.succeededCount = count('succeeded');
    execution.failedCount = count('failed');
    execution.cancelledCount = count('cancelled');
    execution.retriedCount = tasks.filter(t => t.task.retried > 0).length;
    execution.updateTime = now;
    if (task) task.task.updateTime = now;
  }

  /** Keeps the job's latest_created_execution in step with this execution. */
  #syncJob(completionStatus: string): void {
    const {execution, name} = this.#record;
    const job = this.#rt.store.jobs.get(jobPath(name))?.job;
    if (!job || job.latestCreatedExecution?.name !== execution.name) return;
    job.latestCreatedExecution = {
      name: execution.name,
      createTime: execution.createTime,
      ...(execution.completionTime ? {completionTime: execution.completionTime} : {}),
      completionStatus,
    };
  }
}
