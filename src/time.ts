/** A protobuf Timestamp as the API returns it: int64 seconds as a string (or a Long), and nanos. */
export type Timestamp = {seconds?: unknown; nanos?: number | null} | null | undefined;

/** millis turns a protobuf Timestamp into milliseconds since the epoch, 0 when it is unset. */
export const millis = (t: Timestamp): number => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0);
