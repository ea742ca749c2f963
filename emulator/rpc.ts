// The shape of an RPC method as the services implement it and the server runs it.
import type {ServerDuplexStream} from '@grpc/grpc-js';
import type {PermissionCheck} from './iam.ts';
import type {Message} from './protos.ts';

export interface CallContext {
  /** Aborts when the client cancels the call or its deadline passes. */
  signal: AbortSignal;
  /** Epoch milliseconds; Infinity without a deadline. */
  deadline: number;
}

export interface UnaryMethod {
  authorize(request: Message): PermissionCheck[];
  handle(request: Message, context: CallContext): Message | Promise<Message>;
}

/** A bidirectional stream, configured by its first request. */
export interface StreamMethod {
  streaming: true;
  authorize(first: Message): PermissionCheck[];
  /** Serves the stream; resolves with the status code it ended with. */
  serve(first: Message, call: ServerDuplexStream<Message, Message>, context: CallContext): Promise<number>;
}

export type Method = UnaryMethod | StreamMethod;

export interface Service {
  name: string;
  methods: Record<string, Method>;
}
