import {parse as parseShellWords} from 'shell-quote';

/** A bad input: the message names the input and the form it expects. */
export class InputError extends Error {
  override name = 'InputError';
}

const fail = (input: string, problem: string): never => {
  throw new InputError(`Input "${input}" ${problem}`);
};

/** parseBoolean accepts the forms @actions/core accepts, and nothing else. */
export function parseBoolean(input: string, raw: string): boolean {
  if (['true', 'True', 'TRUE'].includes(raw)) return true;
  if (['false', 'False', 'FALSE'].includes(raw)) return false;
  return fail(input, `must be true or false, got "${raw}"`);
}

/** parseInteger reads a whole number within [min, max]. */
export function parseInteger(input: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    fail(input, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** parseDuration reads `90s`, `10m`, `1h30m` or plain seconds, into seconds. */
export function parseDuration(input: string, raw: string): number {
  const expected = 'a duration such as 90s, 10m, 1h30m or a number of seconds';
  if (/^\d+$/.test(raw)) return Number(raw);
  const match = DURATION.exec(raw);
  if (!raw || !match) return fail(input, `must be ${expected}, got "${raw}"`);
  const [, h = '0', m = '0', s = '0'] = match;
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/**
 * parseWords reads a JSON array of strings, or shell-style words with quotes.
 * The container's command is not run by a shell, so shell operators are refused
 * rather than passed on as words that would not do what they seem to.
 */
export function parseWords(input: string, raw: string): string[] {
  if (raw.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      return fail(input, `is not a valid JSON array of strings (${(err as Error).message})`);
    }
    if (!Array.isArray(value) || !value.every((w) => typeof w === 'string')) {
      return fail(input, 'must be a JSON array of strings, such as ["migrate", "--yes"]');
    }
    return value;
  }
  if (unbalancedQuote(raw)) return fail(input, 'has a quote that is not closed');
  return shellWords(input, raw).map((word) => {
    if (typeof word === 'string') return word;
    if ('pattern' in word) return word.pattern;
    const what = 'op' in word ? `the shell operator "${word.op}"` : 'a "#" comment';
    return fail(
      input,
      `contains ${what}, but the command is not run by a shell: ` +
        'use a JSON array such as ["sh", "-c", "..."] to run a shell',
    );
  });
}

function shellWords(input: string, raw: string): ReturnType<typeof parseShellWords> {
  try {
    return parseShellWords(raw, (name) => `$${name}`);
  } catch (err) {
    // shell-quote refuses a "${" with no "}" to close it, and an empty "${}".
    if (!(err instanceof Error) || !err.message.startsWith('Bad substitution')) throw err;
    return fail(input, 'has a "${" that is not closed by "}", or an empty "${}"');
  }
}

function unbalancedQuote(raw: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && quote !== "'") i++;
    else if (quote === undefined && (c === '"' || c === "'")) quote = c;
    else if (c === quote) quote = undefined;
  }
  return quote !== undefined;
}

/**
 * parseList splits a list given one item per line, or comma-separated on one line.
 * Blank lines are skipped, so a YAML block scalar can end with an empty line.
 */
export function parseList(raw: string): string[] {
  const items = raw.includes('\n') ? raw.split(/\r?\n/) : raw.split(',');
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/** parsePairs reads `KEY=VALUE` items; keys must be unique. */
export function parsePairs(input: string, raw: string): Array<[string, string]> {
  const seen = new Set<string>();
  return parseList(raw).map((item, index) => {
    const eq = item.indexOf('=');
    // The entry itself is not quoted back: it may be a secret pasted in the wrong form.
    if (eq <= 0) fail(input, `entry ${index + 1} is not KEY=VALUE`);
    const key = item.slice(0, eq).trim();
    if (seen.has(key)) fail(input, `sets "${key}" twice`);
    seen.add(key);
    return [key, item.slice(eq + 1).trim()];
  });
}
