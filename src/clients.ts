import type {protos} from '@google-cloud/run';
// The clients' own modules, not the package index, which loads every Cloud Run client and
// the 1.2 MB static protos module at start-up.
import {ExecutionsClient} from '@google-cloud/run/build/src/v2/executions_client.js';
import {JobsClient} from '@google-cloud/run/build/src/v2/jobs_client.js';
import {TasksClient} from '@google-cloud/run/build/src/v2/tasks_client.js';
import {GoogleError, grpc, type ClientOptions} from 'google-gax';
import {runGax} from './gax.ts';
import {InputError} from './parse.ts';

export type Job = protos.google.cloud.run.v2.IJob;
export type Execution = protos.google.cloud.run.v2.IExecution;
export type Task = protos.google.cloud.run.v2.ITask;
export type Operation = protos.google.longrunning.IOperation;

/**
 * clientOptions points every client at Cloud Run, or at an emulator when `emulatorHost`
 * (CLOUD_RUN_EMULATOR_HOST) is set: plaintext gRPC with no credentials. The universe domain
 * is given so that no credential discovery (and no metadata-server probe) runs at start-up.
 */
export function clientOptions(emulatorHost: string | undefined): ClientOptions {
  if (emulatorHost === undefined || emulatorHost === '') return {universeDomain: 'googleapis.com'};
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(emulatorHost);
  if (!match) throw new InputError(`CLOUD_RUN_EMULATOR_HOST must be HOST:PORT, got "${emulatorHost}"`);
  return {
    apiEndpoint: match[1].replace(/^\[|\]$/g, ''),
    port: Number(match[2]),
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
}

type OperationsStub = {
  waitOperation(
    request: {name: string; timeout: {seconds: number}},
    metadata: grpc.Metadata,
    options: {deadline: Date},
    callback: (err: grpc.ServiceError | null, op?: Operation) => void,
  ): grpc.ClientUnaryCall;
};

/** The Cloud Run clients a run needs, closed together so the process can exit promptly. */
export class CloudRun {
  readonly jobs: JobsClient;
  readonly executions: ExecutionsClient;
  readonly tasks: TasksClient;

  readonly emulated: boolean;
  /** host:port of the API, as errors name it. */
  readonly address: string;

  constructor(options: ClientOptions) {
    this.emulated = Boolean(options.sslCreds);
    this.address = `${options.apiEndpoint ?? 'run.googleapis.com'}:${options.port ?? 443}`;
    this.jobs = new JobsClient(options, runGax);
    this.executions = new ExecutionsClient(options, runGax);
    this.tasks = new TasksClient(options, runGax);
  }

  /**
   * authenticate loads the credentials before any call. A client that finds none on its own
   * first call leaves a rejected promise unhandled inside the library and crashes the process.
   */
  async authenticate(): Promise<void> {
    if (!this.emulated) await this.jobs.auth.getClient();
  }

  /** reachable resolves once the channel to Cloud Run is connected, and fails if it is not within `ms`. */
  async reachable(ms: number): Promise<void> {
    const stub = (await this.jobs.initialize()) as unknown as grpc.Client;
    await new Promise<void>((resolve, reject) =>
      stub.waitForReady(Date.now() + ms, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * waitOperation long-polls google.longrunning.Operations.WaitOperation, which the generated
   * clients' methods do not expose, through the operations stub they build anyway: it answers
   * as soon as the operation is done, so completion is noticed at once without polling often.
   * It is best effort: it may answer before its timeout, even at once, with the operation not done.
   */
  async waitOperation(name: string, timeoutSeconds: number, signal?: AbortSignal): Promise<Operation> {
    const stub = (await this.jobs.operationsClient.operationsStub) as unknown as OperationsStub;
    const metadata = new grpc.Metadata();
    metadata.set('x-goog-request-params', `name=${encodeURIComponent(name)}`);
    const deadline = new Date(Date.now() + (timeoutSeconds + 10) * 1000);
    return new Promise((resolve, reject) => {
      // As the generated methods do, decode the ErrorInfo of a refusal.
      const call = stub.waitOperation({name, timeout: {seconds: timeoutSeconds}}, metadata, {deadline}, (err, op) =>
        err ? reject(GoogleError.parseGRPCStatusDetails(err as unknown as GoogleError)) : resolve(op ?? {}),
      );
      // Closing a client leaves its calls running: a cancelled run must end this one itself.
      signal?.addEventListener('abort', () => call.cancel(), {once: true});
    });
  }

  /** getOperation reads an operation once, for when WaitOperation is not to be had. */
  async getOperation(name: string): Promise<Operation> {
    const [op] = await this.jobs.operationsClient.getOperation({name} as protos.google.longrunning.GetOperationRequest, {timeout: 20_000});
    return op;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.jobs.close(), this.executions.close(), this.tasks.close()]);
  }
}
