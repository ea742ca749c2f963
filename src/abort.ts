/** The workflow was cancelled: the runner signalled the process. */
export class Aborted extends Error {
  override name = 'Aborted';
}

/**
 * abortable settles with the promise, or rejects with Aborted as soon as the signal fires,
 * leaving the call in flight (closing the clients ends it).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Aborted(String(signal.reason)));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Aborted(String(signal.reason)));
    signal.addEventListener('abort', onAbort, {once: true});
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
