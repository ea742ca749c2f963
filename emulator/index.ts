// The Cloud Run emulator's public API: a real gRPC server speaking the Cloud
// Run Admin API v2 (Jobs, Executions, Tasks), google.longrunning.Operations and
// Cloud Logging v2, whose jobs run their container's command as local processes.
import {Clock} from './clock.ts';
import {createExecution, newExecutionId} from './executions.ts';
import {type FaultRule, type Faults, FaultInjector} from './faults.ts';
import {Iam} from './iam.ts';
import {checkExecutionToken} from './jobs.ts';
import {LogStore} from './logging.ts';
import type {LogQuotaOptions} from './quotas.ts';
import {jobPath, parseJobName} from './names.ts';
import {Operations, type WaitOperationBehaviour} from './operations.ts';
import type {OutOfMemoryResult} from './outcomes.ts';
import {Protos, type Message} from './protos.ts';
import type {ImageConfig, Runtime} from './runtime.ts';
import {type RecordedCall, RpcServer} from './server.ts';
import {executionsService} from './services/executions.ts';
import {jobsService, storeJob} from './services/jobs.ts';
import {loggingService} from './services/logging.ts';
import {operationsService} from './services/operations.ts';
import {tasksService} from './services/tasks.ts';
import {Store} from './store.ts';
import {checkLaunchStage, jobSpec, type LaunchStageRefusal} from './validation.ts';

export type {FaultRule, Faults} from './faults.ts';
export type {OutOfMemoryResult} from './outcomes.ts';
export type {LogQuotaOptions} from './quotas.ts';
export type {ImageConfig} from './runtime.ts';
export type {WaitOperationBehaviour} from './operations.ts';
export type {RecordedCall} from './server.ts';
export type {LaunchStageRefusal} from './validation.ts';

export interface EmulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** The cwd of task processes whose container sets no working_dir; default process.cwd(). */
  workdir?: string;
  /**
   * A local "registry": image -> its ENTRYPOINT (command) and CMD (args). When given, images not listed are
   * missing: a job write naming one is kept but its operation fails with NOT_FOUND, as Cloud Run's does.
   */
  images?: Record<string, ImageConfig>;
  /** Secret Manager versions: 'projects/P/secrets/NAME/versions/V' (V may be 'latest') -> value. */
  secrets?: Record<string, string>;
  /** TailLogEntries' default buffer window; default 2000 ms, as logging.proto says. */
  logBufferMs?: number;
  /** Cloud Logging's read quotas per project; default 60 ListLogEntries a minute and 10 open tails, as Cloud Logging's. */
  logQuotas?: LogQuotaOptions;
  /** How long an entry takes to become readable (List and Tail); default 0. */
  logIngestionDelayMs?: number;
  /** Every `every`th entry becomes readable `delayMs` later still, after entries with later timestamps. */
  logLateEntries?: {every: number; delayMs: number};
  /** Log exclusions: entries matching one of these filters are never readable, e.g. `logName:"varlog%2Fsystem"`. */
  logExclusions?: string[];
  /** SIGTERM -> SIGKILL grace when a task attempt is cancelled or times out; default 10000 ms. */
  killGraceMs?: number;
  /**
   * What the last attempt of a task killed at its memory limit shows besides its message (unverified
   * on the real platform): 'term_signal' 9 (the default), 'exit_code' 137, or 'none'.
   */
  outOfMemory?: OutOfMemoryResult;
  /**
   * How a write using a Preview feature (a task timeout over 24 h) without launch_stage BETA or
   * ALPHA is refused; the code is unverified. 'invalid-argument' (default): INVALID_ARGUMENT with
   * the message real refusals show; 'failed-precondition': FAILED_PRECONDITION, "Precondition check failed."
   */
  launchStageRefusal?: LaunchStageRefusal;
  /** What WaitOperation does; default 'hold', until the operation is done or the timeout passes. */
  waitOperation?: WaitOperationBehaviour;
  /** Called once for every call when it is answered (the CLI logs these). */
  onCall?: (call: RecordedCall) => void;
  /** Fault rules in place from the start, as faults.add() would add them; each must name a method served. */
  faults?: FaultRule[];
}

export interface Emulator {
  /** 'host:port' */
  readonly address: string;
  readonly port: number;
  /** Every RPC received, in order of arrival. */
  readonly calls: RecordedCall[];
  /** Calls to a method by short ('RunJob') or full ('google.cloud.run.v2.Jobs/RunJob') name. */
  callsTo(method: string): RecordedCall[];
  faults: Faults;
  /** Every call needing `permission` fails with PERMISSION_DENIED from now on. */
  denyPermission(permission: string): void;
  /** Creates or replaces a job as if someone else had (a full Job message, `name` its full resource name). */
  putJob(job: object): object;
  getJob(name: string): object | undefined;
  /** Stored (not deleted) executions, newest first, of one job or of all. */
  executions(jobName?: string): object[];
  /** Deletes an image from the registry, as if someone had after the job naming it was written. */
  removeImage(image: string): void;
  /**
   * A maintenance event on a running task (index `taskIndex`, default 0) of an execution: SIGTSTP,
   * `noticeMs` (default 10000, as Cloud Run's notice) later a pause of `pauseMs` (default 1000),
   * then SIGCONT. Resolves false when the task had no running attempt.
   */
  migrateTask(execution: string, options?: {taskIndex?: number; noticeMs?: number; pauseMs?: number}): Promise<boolean>;
  /** Destroys a secret version ('projects/P/secrets/NAME/versions/V'), as if someone had after the job was written. */
  removeSecret(version: string): void;
  /** Runs a job out of band, as gcloud or the console would; returns the execution's full name. */
  startExecution(jobName: string, overrides?: object): string;
  /** Every LogEntry written, in write order, whether or not it can be read. */
  logEntries(): object[];
  /** TailLogEntries sessions open in a project now, and the most open at once so far. */
  tailSessions(project: string): {open: number; peak: number};
  /** Kills running task processes (SIGKILL) and closes the server. */
  stop(): Promise<void>;
}

class CloudRunEmulator implements Emulator {
  readonly calls: RecordedCall[] = [];
  readonly faults = new FaultInjector();
  readonly #iam = new Iam();
  readonly #rt: Runtime;
  readonly #server: RpcServer;
  #address = '';
  #port = 0;

  constructor(options: EmulatorOptions) {
    const clock = new Clock();
    const protos = new Protos();
    this.#rt = {
      options: {
        workdir: options.workdir ?? process.cwd(),
        images: options.images,
        removedImages: new Set(),
        secrets: {...options.secrets},
        logBufferMs: options.logBufferMs ?? 2000,
        killGraceMs: options.killGraceMs ?? 10_000,
        outOfMemory: options.outOfMemory ?? 'term_signal',
        launchStageRefusal: options.launchStageRefusal ?? 'invalid-argument',
        waitOperation: waitOperationBehaviour(options.waitOperation),
      },
      clock,
      store: new Store(),
      logs: new LogStore(clock, {
        quotas: options.logQuotas,
        ingestionDelayMs: options.logIngestionDelayMs,
        lateEntries: options.logLateEntries,
        exclusions: options.logExclusions,
      }),
      operations: new Operations(),
      protos,
    };
    const services = [jobsService, executionsService, tasksService, operationsService, loggingService].map(service =>
      service(this.#rt),
    );
    const served = new Set(services.flatMap(service => Object.keys(service.methods).flatMap(m => [m, `${service.name}/${m}`])));
    for (const rule of options.faults ?? []) {
      if (!served.has(rule.method)) throw new TypeError(`A fault rule names the method ${rule.method}, which the emulator does not serve`);
      this.faults.add(rule);
    }
    this.#server = new RpcServer(services, protos, {
      faults: this.faults,
      iam: this.#iam,
      arrived: call => this.calls.push(call),
      answered: call => options.onCall?.(call),
    });
  }

  async listen(host: string, port: number): Promise<void> {
    this.#port = await this.#server.listen(host, port);
    this.#address = `${host}:${this.#port}`;
  }

  get address(): string {
    return this.#address;
  }

  get port(): number {
    return this.#port;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter(call => call.method === method || call.short === method);
  }

  denyPermission(permission: string): void {
    this.#iam.deny(permission);
  }

  putJob(job: object): object {
    const input = this.#rt.protos.received('google.cloud.run.v2.Job', job as Message);
    const name = parseJobName(input.name, 'job.name');
    const spec = jobSpec(input, !this.#rt.store.jobs.has(jobPath(name)));
    checkLaunchStage(spec, name.job, this.#rt.options.launchStageRefusal);
    checkExecutionToken(this.#rt, name, spec);
    return structuredClone(storeJob(this.#rt, name, spec).record.job);
  }

  getJob(name: string): object | undefined {
    const record = this.#rt.store.jobs.get(name);
    return record && structuredClone(record.job);
  }

  executions(jobName?: string): object[] {
    return [...this.#rt.store.executions.values()]
      .filter(record => !record.deleted && (!jobName || jobPath(record.name) === jobName))
      .sort((a, b) => b.seq - a.seq)
      .map(record => structuredClone(record.execution));
  }

  removeImage(image: string): void {
    this.#rt.options.removedImages.add(image);
  }

  removeSecret(version: string): void {
    delete this.#rt.options.secrets[version];
  }

  async migrateTask(execution: string, options: {taskIndex?: number; noticeMs?: number; pauseMs?: number} = {}): Promise<boolean> {
    const record = this.#rt.store.executions.get(execution);
    if (!record) return false;
    return record.run.migrate(options.taskIndex ?? 0, {noticeMs: options.noticeMs ?? 10_000, pauseMs: options.pauseMs ?? 1000});
  }

  startExecution(jobName: string, overrides?: object): string {
    const name = parseJobName(jobName, 'jobName');
    const job = this.#rt.store.job(name);
    return createExecution(this.#rt, job, newExecutionId(this.#rt, name), overrides as Message | undefined).execution.name;
  }

  logEntries(): object[] {
    return this.#rt.logs.written().map(entry => structuredClone(entry.entry));
  }

  tailSessions(project: string): {open: number; peak: number} {
    return this.#rt.logs.quotas.tails(project);
  }

  async stop(): Promise<void> {
    this.#server.stop();
    await Promise.all([...this.#rt.store.executions.values()].map(record => record.run.kill()));
    this.#rt.logs.stop();
  }
}

function waitOperationBehaviour(value: WaitOperationBehaviour = 'hold'): WaitOperationBehaviour {
  if (value === 'hold' || value === 'immediate' || value === 'unimplemented') return value;
  if (typeof value === 'object' && Number.isInteger(value.code) && value.code > 0 && value.code <= 16) return value;
  throw new TypeError(`waitOperation must be 'hold', 'immediate', 'unimplemented' or {code: 1-16, message}, got ${JSON.stringify(value)}`);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = new CloudRunEmulator(options);
  await emulator.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return emulator;
}
