import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {parse as parseYaml} from 'yaml';
import {ROOT} from './local-runner.ts';

/**
 * npm run docs: README's inputs and outputs tables, written from action.yml between the markers
 * <!-- inputs --> ... <!-- /inputs --> and <!-- outputs --> ... <!-- /outputs -->, so the two
 * cannot disagree (a test fails when they do).
 */
export const README = join(ROOT, 'README.md');

interface Action {
  inputs: Record<string, {description?: string; required?: boolean; default?: string}>;
  outputs: Record<string, {description?: string}>;
}

export const readAction = async (): Promise<Action> => parseYaml(await readFile(join(ROOT, 'action.yml'), 'utf8'));

const cell = (text: string) => text.replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');

function described(kind: string, name: string, description: string | undefined): string {
  if (!description?.trim()) throw new Error(`action.yml: the ${kind} "${name}" has no description`);
  return cell(description);
}

function inputsTable(action: Action): string {
  const rows = Object.entries(action.inputs).map(
    ([name, input]) =>
      `| \`${name}\` | ${input.required ? 'yes' : ''} | ${input.default === undefined ? '' : `\`${input.default}\``} | ${described('input', name, input.description)} |`,
  );
  return ['| input | required | default | description |', '|---|---|---|---|', ...rows].join('\n');
}

function outputsTable(action: Action): string {
  const rows = Object.entries(action.outputs).map(([name, output]) => `| \`${name}\` | ${described('output', name, output.description)} |`);
  return ['| output | description |', '|---|---|', ...rows].join('\n');
}

function replaceBetween(text: string, marker: string, content: string): string {
  const open = `<!-- ${marker} -->`;
  const close = `<!-- /${marker} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`README.md: the markers ${open} and ${close} are missing`);
  return `${text.slice(0, start + open.length)}\n${content}\n${text.slice(end)}`;
}

/** renderReadme is README with its tables as action.yml says; anything else is left as it is. */
export function renderReadme(readme: string, action: Action): string {
  return replaceBetween(replaceBetween(readme, 'inputs', inputsTable(action)), 'outputs', outputsTable(action));
}

if (import.meta.main) {
  await writeFile(README, renderReadme(await readFile(README, 'utf8'), await readAction()));
  console.log('README.md: inputs and outputs written from action.yml.');
}
