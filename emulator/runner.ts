// One task attempt as a local process: the container's argv run without a
// shell, in its own process group (the "container"), with a per-attempt
// timeout enforced as SIGTERM then SIGKILL after a grace period, and its
// memory limit as the OOM killer enforces one: SIGKILL at once.
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import {constants} from 'node:os';
import {LineSplitter} from './lines.ts';
import {watchMemory} from './memory.ts';

export type OutputStream = 'stdout' | 'stderr';

export interface AttemptOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  killGraceMs: number;
  /** Bytes of resident memory the attempt's processes may hold together. */
  memoryLimit: number;
  onLine(stream: OutputStream, text: string): void;
  onTimeout(): void;
  onMemoryExceeded(usedBytes: number): void;
}

export interface AttemptOutcome {
  exitCode?: number;
  signal?: NodeJS.Signals;
  /** Set when the container could not be started at all. */
  startError?: string;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the attempt was killed for holding more memory than its limit: the bytes it held. */
  memoryUsed?: number;
}

export const signalNumber = (signal: NodeJS.Signals): number => constants.signals[signal];

function startError(argv: string[], cwd: string, error?: NodeJS.ErrnoException): string | undefined {
  if (argv.length === 0) return 'Application failed to start: no command specified';
  if (!fs.existsSync(cwd)) return `Application failed to start: working directory '${cwd}' does not exist`;
  if (error?.code === 'ENOENT') return `Application failed to start: exec: "${argv[0]}": executable file not found in $PATH`;
  if (error) return `Application failed to start: exec: "${argv[0]}": ${error.message}`;
  return undefined;
}

export class Attempt {
  readonly outcome: Promise<AttemptOutcome>;
  readonly #options: AttemptOptions;
  #child?: ChildProcess;
  #timedOut = false;
  #cancelled = false;
  #memoryUsed?: number;
  #settled = false;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: AttemptOptions) {
    this.#options = options;
    this.outcome = new Promise(resolve => this.#start(resolve));
  }

  /** Stops the attempt as a cancellation does: SIGTERM, then SIGKILL after the grace period. */
  cancel(): void {
    this.#cancelled = true;
    this.#terminate();
  }

  /** Sends a signal to the container's processes; false once the attempt has ended. */
  send(signal: NodeJS.Signals): boolean {
    if (this.#settled) return false;
    this.#signal(signal);
    return true;
  }

  /** Kills the attempt at once. */
  kill(): void {
    this.#cancelled = true;
    this.#signal('SIGKILL');
  }

  #start(resolve: (outcome: AttemptOutcome) => void): void {
    const {argv, cwd, env, timeoutMs, memoryLimit, onLine} = this.#options;
    let unwatch = () => {};
    const settle = (result: Partial<AttemptOutcome>) => {
      if (this.#settled) return;
      this.#settled = true;
      unwatch();
      for (const timer of this.#timers) clearTimeout(timer);
      const memoryUsed = this.#memoryUsed === undefined ? {} : {memoryUsed: this.#memoryUsed};
      resolve({timedOut: this.#timedOut, cancelled: this.#cancelled, ...memoryUsed, ...result});
    };
    const notStartable = startError(argv, cwd);
    if (notStartable) return settle({startError: notStartable});

    const child = spawn(argv[0]!, argv.slice(1), {cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true});
    this.#child = child;
    // Both streams feed entries in the order their chunks arrive.
    const stdout = new LineSplitter(text => onLine('stdout', text));
    const stderr = new LineSplitter(text => onLine('stderr', text));
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', error => settle({startError: startError(argv, cwd, error)}));
    // When the main process exits the container stops: nothing it left behind keeps running.
    child.once('exit', () => this.#signal('SIGKILL'));
    child.once('close', (code, signal) => {
      stdout.end();
      stderr.end();
      settle(signal ? {signal} : {exitCode: code ?? undefined});
    });
    if (child.pid !== undefined) {
      unwatch = watchMemory(child.pid, memoryLimit, used => {
        this.#memoryUsed = used;
        this.#options.onMemoryExceeded(used);
        this.#signal('SIGKILL');
      });
    }
    this.#after(timeoutMs, () => {
      this.#timedOut = true;
      this.#options.onTimeout();
      this.#terminate();
    });
  }

  #terminate(): void {
    this.#signal('SIGTERM');
    this.#after(this.#options.killGraceMs, () => this.#signal('SIGKILL'));
  }

  #after(ms: number, action: () => void): void {
    if (this.#settled) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, ms);
    this.#timers.add(timer);
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined || this.#settled) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The process group is already gone.
    }
  }
}
