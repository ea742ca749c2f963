import type {Inputs} from './inputs.ts';
import type {Io} from './io.ts';

const SENSITIVE_NAME = /pass|secret|token|key|credential|auth|private|cert|dsn|database_url|conn/i;
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]+)@/i;
/** A long run of mixed-case letters and digits with no path or word shape: an API key or token. */
const TOKEN_LIKE = /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z0-9+/=_-]{24,}$/;

/**
 * maskSecrets hides the env_vars values that look like credentials before anything can
 * print them: by their name (DB_PASSWORD, API_KEY...), by their form (a long token), or the
 * password inside a connection URL. Values from `secrets` never reach the action at all.
 */
export function maskSecrets(inputs: Inputs, io: Io): void {
  for (const {name, value} of inputs.env) {
    const password = URL_PASSWORD.exec(value)?.[1];
    if (password) io.mask(password);
    if (looksLikeCredential(name, value)) io.mask(value);
  }
}

/** looksLikeCredential tells whether a variable's value is one that maskSecrets would hide. */
export function looksLikeCredential(name: string, value: string): boolean {
  const tokenLike = TOKEN_LIKE.test(value) && !value.startsWith('/');
  return value.length >= 4 && (SENSITIVE_NAME.test(name) || tokenLike || URL_PASSWORD.test(value));
}
