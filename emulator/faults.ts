// Fault injection: rules that make matching calls slow, hang, or fail, before
// the call acts or (afterEffect) after it acted, as when a response is lost.
import {status} from '@grpc/grpc-js';
import {type ErrorInfo, statusName} from './errors.ts';

export interface FaultRule {
  /** Short ('RunJob') or full ('google.cloud.run.v2.Jobs/RunJob') method name. */
  method: string;
  /** The status to answer with. Defaults to UNAVAILABLE unless the rule only delays or hangs. */
  code?: number;
  message?: string;
  /** Sent with the status, as Google APIs explain a denial or an exhausted quota (reason, domain, metadata). */
  errorInfo?: ErrorInfo;
  /** How many calls the rule applies to; default 1, Infinity allowed. */
  times?: number;
  /** Perform the call, then answer with the fault. */
  afterEffect?: boolean;
  delayMs?: number;
  /** Never answer, until the client gives up. */
  hang?: boolean;
  when?: (request: any) => boolean;
}

export interface Faults {
  add(rule: FaultRule): void;
  clear(): void;
}

/** What one call should suffer. */
export interface Fault {
  afterEffect: boolean;
  delayMs: number;
  hang: boolean;
  error?: {code: number; message: string; errorInfo?: ErrorInfo};
}

export class FaultInjector implements Faults {
  readonly #rules: Array<FaultRule & {remaining: number}> = [];

  add(rule: FaultRule): void {
    const remaining = rule.times ?? 1;
    if (!rule.method) throw new TypeError('A fault rule needs a method');
    if (!(remaining > 0)) throw new TypeError('A fault rule needs times > 0');
    this.#rules.push({...rule, remaining});
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** The first rule matching this call, used up by one. */
  take(fullMethod: string, request: unknown): Fault | undefined {
    const short = fullMethod.split('/').pop();
    const rule = this.#rules.find(
      candidate => (candidate.method === fullMethod || candidate.method === short) && (candidate.when?.(request) ?? true),
    );
    if (!rule) return undefined;
    if (--rule.remaining <= 0) this.#rules.splice(this.#rules.indexOf(rule), 1);
    const code = rule.code ?? (rule.delayMs || rule.hang ? undefined : status.UNAVAILABLE);
    return {
      afterEffect: Boolean(rule.afterEffect),
      delayMs: rule.delayMs ?? 0,
      hang: Boolean(rule.hang),
      error:
        code === undefined
          ? undefined
          : {code, message: rule.message ?? `Injected fault: ${statusName(code)}`, errorInfo: rule.errorInfo},
    };
  }
}
