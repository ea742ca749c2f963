// The gRPC server. Every call is first recorded, then suffers any matching
// fault rule, then is checked against IAM, and only then acts.
import {setTimeout as sleep} from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import {RpcError, unimplemented} from './errors.ts';
import type {Fault, FaultInjector} from './faults.ts';
import type {Iam} from './iam.ts';
import type {Message, Protos} from './protos.ts';
import type {CallContext, Method, Service} from './rpc.ts';

export interface RecordedCall {
  /** Full method name, e.g. 'google.cloud.run.v2.Jobs/RunJob'. */
  method: string;
  /** Short method name, e.g. 'RunJob'. */
  short: string;
  /** The request as a plain object with camelCase fields (int64 as strings, enums as names). */
  request: any;
  /** The gRPC status code answered; -1 while the call is in flight. */
  code: number;
  /** Date.now() when the call arrived. */
  at: number;
}

const IN_FLIGHT = -1;

export interface ServerHooks {
  faults: FaultInjector;
  iam: Iam;
  /** Called when a call arrives, and again when its code is known. */
  arrived(call: RecordedCall): void;
  answered(call: RecordedCall): void;
}

type Call = grpc.ServerUnaryCall<Message, Message> | grpc.ServerDuplexStream<Message, Message>;

function serviceError(error: unknown, protos: Protos): grpc.ServiceError {
  const code = error instanceof RpcError ? error.code : grpc.status.INTERNAL;
  const message = error instanceof Error ? error.message : String(error);
  const metadata = new grpc.Metadata();
  if (error instanceof RpcError && error.errorInfo) {
    metadata.set('grpc-status-details-bin', protos.status(code, message, error.errorInfo));
  }
  return Object.assign(new Error(message), {code, details: message, metadata});
}

const whenAborted = (signal: AbortSignal) =>
  new Promise<void>(resolve => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), {once: true})));

export class RpcServer {
  readonly #server = new grpc.Server();
  readonly #hooks: ServerHooks;
  readonly #protos: Protos;
  /** Calls in flight, to end them on stop(). */
  readonly #live = new Map<AbortController, RecordedCall>();

  constructor(services: Service[], protos: Protos, hooks: ServerHooks) {
    this.#hooks = hooks;
    this.#protos = protos;
    for (const service of services) {
      const definition = protos.service(service.name);
      const implementation: grpc.UntypedServiceImplementation = {};
      for (const [name, attributes] of Object.entries(definition)) {
        const full = `${service.name}/${name}`;
        const method = service.methods[name];
        implementation[name] = attributes.requestStream
          ? (call: grpc.ServerDuplexStream<Message, Message>) => this.#stream(full, method, call)
          : (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) =>
              void this.#unary(full, method, call, callback);
      }
      this.#server.addService(definition, implementation);
    }
  }

  /** Binds `host:port` (0 for a free port); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    return new Promise((resolve, reject) =>
      this.#server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  }

  /** Ends every call in flight (hanging ones, waits, tails) and closes the server. */
  stop(): void {
    for (const [controller, recorded] of this.#live) {
      this.#finish(recorded, grpc.status.CANCELLED);
      controller.abort();
    }
    this.#server.forceShutdown();
  }

  #record(method: string, request: Message): RecordedCall {
    const recorded = {method, short: method.split('/').pop()!, request, code: IN_FLIGHT, at: Date.now()};
    this.#hooks.arrived(recorded);
    return recorded;
  }

  #finish(recorded: RecordedCall, code: number): void {
    if (recorded.code !== IN_FLIGHT) return;
    recorded.code = code;
    this.#hooks.answered(recorded);
  }

  /** A context whose signal aborts when the client cancels or its deadline passes. */
  #context(call: Call, recorded: RecordedCall): CallContext & {done(): void} {
    const controller = new AbortController();
    const value = call.getDeadline();
    const deadline = value instanceof Date ? value.getTime() : value;
    this.#live.set(controller, recorded);
    call.once('cancelled', () => {
      this.#finish(recorded, Date.now() >= deadline ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED);
      controller.abort();
    });
    return {signal: controller.signal, deadline, done: () => this.#live.delete(controller)};
  }

  /** Applies a fault's latency and hang; false when the call must not go on (the client is gone). */
  async #suffer(fault: Fault, context: CallContext): Promise<boolean> {
    if (fault.delayMs) await sleep(fault.delayMs, undefined, {signal: context.signal}).catch(() => undefined);
    if (fault.hang) await whenAborted(context.signal);
    if (context.signal.aborted) return false;
    if (fault.error) throw new RpcError(fault.error.code, fault.error.message, fault.error.errorInfo);
    return true;
  }

  async #unary(
    full: string,
    method: Method | undefined,
    call: grpc.ServerUnaryCall<Message, Message>,
    callback: grpc.sendUnaryData<Message>,
  ): Promise<void> {
    const recorded = this.#record(full, call.request);
    const context = this.#context(call, recorded);
    try {
      const fault = this.#hooks.faults.take(full, call.request);
      if (fault && !fault.afterEffect && !(await this.#suffer(fault, context))) return;
      if (!method || 'streaming' in method) throw unimplemented(`The Cloud Run emulator does not implement ${full}.`);
      this.#hooks.iam.check(method.authorize(call.request));
      const response = await method.handle(call.request, context);
      // afterEffect: the call acted; now its answer is delayed, lost, or an error.
      if (fault?.afterEffect && !(await this.#suffer(fault, context))) return;
      if (context.signal.aborted) return;
      this.#finish(recorded, grpc.status.OK);
      callback(null, response);
    } catch (error) {
      if (context.signal.aborted) return;
      const failure = serviceError(error, this.#protos);
      this.#finish(recorded, failure.code);
      callback(failure);
    } finally {
      context.done();
    }
  }

  // A bidirectional stream is recorded, faulted and authorized on its first request.
  #stream(full: string, method: Method | undefined, call: grpc.ServerDuplexStream<Message, Message>): void {
    let started = false;
    call.on('data', (first: Message) => {
      if (started) return;
      started = true;
      void this.#serveStream(full, method, call, first);
    });
  }

  async #serveStream(
    full: string,
    method: Method | undefined,
    call: grpc.ServerDuplexStream<Message, Message>,
    first: Message,
  ): Promise<void> {
    const recorded = this.#record(full, first);
    const context = this.#context(call, recorded);
    try {
      const fault = this.#hooks.faults.take(full, first);
      if (fault && !(await this.#suffer(fault, context))) return;
      if (!method || !('streaming' in method)) throw unimplemented(`The Cloud Run emulator does not implement ${full}.`);
      this.#hooks.iam.check(method.authorize(first));
      this.#finish(recorded, await method.serve(first, call, context));
    } catch (error) {
      if (context.signal.aborted) return;
      const failure = serviceError(error, this.#protos);
      this.#finish(recorded, failure.code);
      call.emit('error', failure);
    } finally {
      context.done();
    }
  }
}
