import {once} from 'node:events';

/** Resolves once a stream has written out what it buffered, at once if nothing waits. */
export async function drained(stream: NodeJS.WritableStream & {writableNeedDrain: boolean}): Promise<void> {
  if (stream.writableNeedDrain) await once(stream, 'drain');
}
