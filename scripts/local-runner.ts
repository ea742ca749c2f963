import {spawn} from 'node:child_process';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parse as parseYaml} from 'yaml';

/**
 * A stand-in for the GitHub Actions runner, for the demo, the tests and the benchmark:
 * it runs the action's dist/ exactly as the runner does (inputs as INPUT_* variables with
 * action.yml's defaults, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files) and reads the
 * workflow commands on its stdout the way the runner does, masks and stop-commands included.
 */

export const ROOT = join(import.meta.dirname, '..');

export interface ActionRun {
  /** The process's exit code, or the signal that ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the runner's log would show: workflow commands consumed, masked values as ***. */
  log: string[];
  /** Every byte the action wrote to stdout, before any of that processing. */
  stdout: string;
  stderr: string;
  annotations: Array<{level: 'error' | 'warning' | 'notice'; message: string}>;
  /** Outputs from GITHUB_OUTPUT, and from any ::set-output command the runner would still obey. */
  outputs: Record<string, string>;
  masks: string[];
  /** What the step saved for its post step (GITHUB_STATE). */
  state: Record<string, string>;
  summary: string;
  /** When the process was spawned and when it exited, in ms since the epoch. */
  startedAt: number;
  exitedAt: number;
}

export interface RunOptions {
  inputs: Record<string, string>;
  env?: Record<string, string>;
  /** Called with each line of the displayed log as it arrives. */
  onLine?: (line: string) => void;
  /** Called once the process is spawned, e.g. to signal it. */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  entry?: string;
  /** Runs the post step, with the state a main step saved, as the runner does after the job's steps. */
  postState?: Record<string, string>;
}

let defaultsCache: Record<string, string> | undefined;

async function actionDefaults(): Promise<Record<string, string>> {
  if (defaultsCache) return defaultsCache;
  const action = parseYaml(await readFile(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, {default?: string}>;
  };
  defaultsCache = Object.fromEntries(
    Object.entries(action.inputs)
      .filter(([, spec]) => spec.default !== undefined)
      .map(([name, spec]) => [name, String(spec.default)]),
  );
  return defaultsCache;
}

const inputVariable = (name: string) => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

/** runAction runs dist/index.js once, as a workflow step would, and reports what the runner saw. */
export async function runAction(options: RunOptions): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), 'action-run-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  const stateFile = join(dir, 'state');
  await Promise.all([writeFile(outputFile, ''), writeFile(summaryFile, ''), writeFile(stateFile, '')]);
  const inputs = {...(await actionDefaults()), ...options.inputs};
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
    ...Object.fromEntries(Object.entries(options.postState ?? {}).map(([name, value]) => [`STATE_${name}`, value])),
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [inputVariable(name), value])),
    ...options.env,
  };
  const startedAt = Date.now();
  const child = spawn(process.execPath, [options.entry ?? join(ROOT, 'dist/index.js')], {env, cwd: dir});
  options.onSpawn?.(child);
  const commands = new CommandReader(options.onLine);
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) commands.read(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  const exitedAt = Date.now();
  if (pending) commands.read(pending);
  const outputs = {...commands.outputs, ...parseOutputFile(await readFile(outputFile, 'utf8'))};
  const state = parseOutputFile(await readFile(stateFile, 'utf8'));
  const summary = await readFile(summaryFile, 'utf8');
  await rm(dir, {recursive: true, force: true});
  return {code, signal, stdout, stderr, log: commands.log, annotations: commands.annotations, outputs, masks: commands.masks, state, summary, startedAt, exitedAt};
}

/** GITHUB_OUTPUT and GITHUB_STATE hold `name<<DELIMITER`, the value's lines, then `DELIMITER`. */
function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      outputs[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i].includes('=')) {
      const eq = lines[i].indexOf('=');
      outputs[lines[i].slice(0, eq)] = lines[i].slice(eq + 1);
    }
  }
  return outputs;
}

/** Reads workflow commands as the runner's ActionCommandManager does. */
class CommandReader {
  log: string[] = [];
  annotations: ActionRun['annotations'] = [];
  outputs: Record<string, string> = {};
  masks: string[] = [];
  #stopToken: string | undefined;
  #onLine?: (line: string) => void;

  constructor(onLine?: (line: string) => void) {
    this.#onLine = onLine;
  }

  read(raw: string): void {
    const line = raw.replace(/\r$/, '');
    const command = /^::([A-Za-z0-9_-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (this.#stopToken !== undefined) {
      if (command && command[1] === this.#stopToken && !command[2]) this.#stopToken = undefined;
      else this.#show(line);
      return;
    }
    if (!command) return this.#show(line);
    const [, name, properties = '', data] = command;
    const value = unescapeData(data);
    switch (name) {
      case 'add-mask':
        if (value.trim()) this.masks.push(...value.split(/\r?\n/).filter((v) => v.trim()));
        return;
      case 'stop-commands':
        if (value && value !== 'pause-logging') this.#stopToken = value;
        return;
      case 'error':
      case 'warning':
      case 'notice':
        this.annotations.push({level: name, message: this.#mask(value)});
        return this.#show(`${name === 'error' ? 'Error' : name === 'warning' ? 'Warning' : 'Notice'}: ${value}`);
      case 'set-output': {
        const outputName = /name=([^,]+)/.exec(properties)?.[1];
        if (outputName) this.outputs[outputName] = value;
        return;
      }
      case 'debug':
      case 'save-state':
      case 'group':
      case 'endgroup':
      case 'echo':
        return;
      default:
        return this.#show(line);
    }
  }

  #mask(text: string): string {
    return this.masks.reduce((out, secret) => out.split(secret).join('***'), text);
  }

  #show(line: string): void {
    const shown = this.#mask(line);
    this.log.push(shown);
    this.#onLine?.(shown);
  }
}

const unescapeData = (data: string) => data.replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%');
