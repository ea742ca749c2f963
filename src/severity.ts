/**
 * The mark a job line gets for its log entry's severity (google.logging.type.LogSeverity), so
 * that its errors and warnings stand out in a log of thousands of lines. A table, looked up by
 * the severity as the client decodes it: its name, or its number for a value the descriptor
 * does not name. DEFAULT, what Cloud Run gives stdout, and any severity not known here, get none.
 */
export type SeverityMarks = Readonly<Record<string, string>>;

const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

const SEVERITIES: Array<[name: string, value: number, colour: string]> = [
  ['DEBUG', 100, ''],
  ['INFO', 200, ''],
  ['NOTICE', 300, ''],
  ['WARNING', 400, YELLOW],
  ['ERROR', 500, RED],
  ['CRITICAL', 600, RED],
  ['ALERT', 700, RED],
  ['EMERGENCY', 800, RED],
];

/** severityMarks gives each severity its name as a prefix, warnings yellow and errors red with `colour` (ANSI SGR). */
export function severityMarks(colour: boolean): SeverityMarks {
  const marks: Record<string, string> = {};
  for (const [name, value, sgr] of SEVERITIES) {
    marks[name] = marks[value] = colour && sgr ? `${sgr}${name}${RESET} ` : `${name} `;
  }
  return Object.freeze(marks);
}
