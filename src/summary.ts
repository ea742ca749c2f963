export interface SummaryFacts {
  job: string;
  image?: string;
  execution?: string;
  status: string;
  duration?: number;
  exitCode?: number;
  consoleUrl?: string;
  logsUrl?: string;
  reason?: string;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** summaryMarkdown is the step summary: one table a reviewer can read at a glance. */
export function summaryMarkdown(facts: SummaryFacts): string {
  const icon = facts.status === 'succeeded' ? '✅' : facts.status === 'started' ? '▶️' : '❌';
  const rows: Array<[string, string | undefined]> = [
    ['Job', `\`${facts.job}\``],
    ['Image', facts.image && `\`${facts.image}\``],
    ['Execution', facts.execution && `\`${facts.execution}\``],
    ['Status', `${icon} ${facts.status}`],
    ['Reason', facts.reason],
    ['Duration', facts.duration === undefined ? undefined : `${facts.duration} s`],
    ['Exit code', facts.exitCode === undefined ? undefined : String(facts.exitCode)],
    ['Links', [facts.consoleUrl && `[execution](${facts.consoleUrl})`, facts.logsUrl && `[logs](${facts.logsUrl})`].filter(Boolean).join(' · ') || undefined],
  ];
  const body = rows.filter(([, value]) => value).map(([name, value]) => `| ${name} | ${cell(value as string)} |`);
  return ['### Cloud Run job', '', '| | |', '|---|---|', ...body, ''].join('\n');
}
