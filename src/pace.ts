/**
 * Between the starts of two Cloud Run reads while a run waits: at most 20 a minute, whatever the
 * server does (a WaitOperation that answers at once or fails is a read like any other), with room
 * for timers and the network to be a little early.
 */
export const READ_FLOOR_MS = 3100;

/**
 * Pace spaces a wait's reads by the floor. Retries of a failed read count as reads, so every
 * attempt takes its turn. One read may skip the floor: the one that follows an operation seen
 * done, so completion is read at once; there is one such read per wait.
 */
export class Pace {
  #last = -Infinity;
  #free = false;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #signal?: AbortSignal;

  constructor(sleep: (ms: number, signal?: AbortSignal) => Promise<void>, signal?: AbortSignal) {
    this.#sleep = sleep;
    this.#signal = signal;
  }

  /** Lets the next read go at once. */
  skipFloor(): void {
    this.#free = true;
  }

  /** Resolves when the next read may start without waiting; never, once `signal` aborts. */
  free(signal: AbortSignal): Promise<undefined> {
    const wait = Math.max(0, this.#last + READ_FLOOR_MS - Date.now());
    return this.#sleep(wait, signal).then(
      () => undefined,
      () => new Promise<undefined>(() => undefined),
    );
  }

  /** Resolves when the next read may start, and counts it as started. */
  async turn(): Promise<void> {
    const wait = this.#free ? 0 : this.#last + READ_FLOOR_MS - Date.now();
    if (wait > 0) await this.#sleep(wait, this.#signal);
    this.#free = false;
    this.#last = Date.now();
  }
}
