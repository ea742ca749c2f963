import {randomBytes} from 'node:crypto';

/** Longer lines are cut: the runner's log is for reading, and one line must not hold megabytes. */
export const MAX_LINE_CHARS = 8192;

// CSI/OSC and other escape sequences, then any remaining C0/C1 control character but tab.
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])/g;
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
const HAS_CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

/**
 * cleanLine makes one line of the job's output safe to print: escape sequences are dropped
 * (they could rewrite what the log shows), other control characters become visible, and an
 * over-long line is cut with a marker saying how much was left out.
 */
export function cleanLine(text: string): string {
  // Most lines have no control character at all (ESC is one): they are printed as they are.
  if (!HAS_CONTROL.test(text)) return cut(text);
  return cut(
    text
      .replace(ESCAPES, '')
      .replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`),
  );
}

function cut(clean: string): string {
  if (clean.length <= MAX_LINE_CHARS) return clean;
  return `${clean.slice(0, MAX_LINE_CHARS)} … [${clean.length - MAX_LINE_CHARS} more characters cut]`;
}

/**
 * fenced wraps lines in ::stop-commands::TOKEN ... ::TOKEN::, so that the runner prints
 * workflow commands among them (::set-output, ::add-mask::, ::error::...) as plain text.
 * The token is random for every batch, so the job cannot guess it and resume commands.
 */
export function fenced(lines: string[]): string {
  const token = randomBytes(16).toString('hex');
  return [`::stop-commands::${token}`, ...lines, `::${token}::`].join('\n');
}
