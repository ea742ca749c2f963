// gRPC errors raised by handlers; the server turns them into call statuses.
import {status} from '@grpc/grpc-js';

/** A google.rpc.ErrorInfo: why a call failed, in a form a client can read without parsing the message. */
export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata?: Record<string, string>;
}

export class RpcError extends Error {
  readonly code: number;
  /** Sent, as Google APIs send it, in the google.rpc.Status of the `grpc-status-details-bin` trailer. */
  readonly errorInfo?: ErrorInfo;

  constructor(code: number, message: string, errorInfo?: ErrorInfo) {
    super(message);
    this.code = code;
    this.errorInfo = errorInfo;
  }
}

export const invalidArgument = (message: string) => new RpcError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new RpcError(status.NOT_FOUND, message);
export const alreadyExists = (message: string) => new RpcError(status.ALREADY_EXISTS, message);
export const failedPrecondition = (message: string) => new RpcError(status.FAILED_PRECONDITION, message);
export const aborted = (message: string) => new RpcError(status.ABORTED, message);
export const permissionDenied = (message: string, errorInfo?: ErrorInfo) => new RpcError(status.PERMISSION_DENIED, message, errorInfo);
export const unimplemented = (message: string) => new RpcError(status.UNIMPLEMENTED, message);

/** The status name for a code, e.g. 14 -> 'UNAVAILABLE'. */
export function statusName(code: number): string {
  return Object.entries(status).find(([, value]) => value === code)?.[0] ?? String(code);
}
