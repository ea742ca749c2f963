// Server-generated identifiers.
import {randomBytes, randomInt, randomUUID} from 'node:crypto';

const LOWER_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';

export const uuid = (): string => randomUUID();

/** The random part of an execution id, as in `my-job-x7k2p`. */
export function executionSuffix(): string {
  return Array.from({length: 5}, () => LOWER_ALPHANUMERIC[randomInt(LOWER_ALPHANUMERIC.length)]).join('');
}

export const newEtag = (): string => randomBytes(12).toString('base64url');

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');
