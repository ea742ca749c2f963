import {parseArgs} from 'node:util';
import action from './action.json' with {type: 'json'};

interface ActionSpec {
  inputs: Record<string, {description: string; required?: boolean; default?: string}>;
  outputs: Record<string, {description: string}>;
}

/** action.yml, embedded in the bundle (npm run build writes action.json from it). */
const spec: ActionSpec = action;

/** Inputs that hold a list, one entry per line: a repeated flag adds an entry. */
export const LIST_INPUTS = ['env_vars', 'secrets', 'labels', 'cloudsql_instances'];

/** Flags of the command line itself, beside those of the inputs. */
const OWN_FLAGS = {
  'output-file': {type: 'string'},
  debug: {type: 'boolean'},
  help: {type: 'boolean', short: 'h'},
  version: {type: 'boolean'},
} as const;

export type CommandLine =
  | {kind: 'run'; inputs: Record<string, string>; outputFile?: string; debug: boolean}
  | {kind: 'help'}
  | {kind: 'version'};

/** Bad usage: an unknown flag, a missing value, a required flag left out. The exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const dashed = (input: string) => input.replaceAll('_', '-');

/** Both spellings of an input's flag: --project-id, and --project_id as the input is named. */
const spellings = (input: string) => [...new Set([dashed(input), input])];

/**
 * parseCommandLine reads the flags, which are the action's inputs, and gives every input its
 * value, action.yml's default when the flag is absent: no runner is there to apply them.
 */
export function parseCommandLine(argv: string[]): CommandLine {
  const inputFlags = Object.fromEntries(
    Object.keys(spec.inputs).flatMap((input) => spellings(input).map((flag) => [flag, {type: 'string', multiple: true} as const])),
  );
  const options = {...inputFlags, ...OWN_FLAGS};
  let values: Record<string, string[] | string | boolean | undefined>;
  try {
    ({values} = parseArgs({args: withValues(argv, options), options, strict: true, allowPositionals: false}));
  } catch (err) {
    const unknown = /^Unknown option '([^']+)'/.exec((err as Error).message)?.[1];
    throw new UsageError(unknown ? `unknown flag ${unknown}` : (err as Error).message);
  }
  if (values.help) return {kind: 'help'};
  if (values.version) return {kind: 'version'};

  const inputs: Record<string, string> = {};
  for (const [input, {required, default: fallback}] of Object.entries(spec.inputs)) {
    const given = spellings(input).flatMap((flag) => (values[flag] as string[] | undefined) ?? []);
    if (given.length > 1 && !LIST_INPUTS.includes(input)) throw new UsageError(`--${dashed(input)} was given ${given.length} times`);
    const value = given.length > 0 ? given.join('\n') : (fallback ?? '');
    if (required && value.trim() === '') throw new UsageError(`--${dashed(input)} is required`);
    inputs[input] = value.trim();
  }
  return {kind: 'run', inputs, outputFile: values['output-file'] as string | undefined, debug: Boolean(values.debug)};
}

/**
 * withValues joins each flag that takes a value with the word after it (`--args -c` becomes
 * `--args=-c`): parseArgs refuses a value that starts with a dash as ambiguous, and `-c` is an
 * everyday value here. A next word that is itself one of the flags means the value is missing.
 */
function withValues(argv: string[], options: Record<string, {type: 'string' | 'boolean'; short?: string}>): string[] {
  const isFlag = (word: string) =>
    Object.entries(options).some(([name, {short}]) => word.split('=')[0] === `--${name}` || (short && word === `-${short}`));
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') return [...joined, ...argv.slice(i)];
    if (!word.startsWith('--') || word.includes('=') || options[word.slice(2)]?.type !== 'string') {
      joined.push(word);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || isFlag(value)) throw new UsageError(`${word} needs a value`);
    joined.push(`${word}=${value}`);
    i++;
  }
  return joined;
}

const WIDTH = 100;

function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

function entry(flag: string, description: string): string {
  return `  ${flag}\n${wrap(description, '      ')}`;
}

/** helpText lists every flag with the description of the input it sets, from action.yml. */
export function helpText(program: string): string {
  const inputs = Object.entries(spec.inputs).map(([input, {description, required, default: fallback}]) => {
    const notes = [required && 'required', fallback !== undefined && `default: ${fallback}`, LIST_INPUTS.includes(input) && 'repeatable']
      .filter(Boolean)
      .join(', ');
    return entry(`--${dashed(input)} VALUE${notes ? ` (${notes})` : ''}`, description);
  });
  const outputs = Object.entries(spec.outputs).map(([output, {description}]) => entry(output, description));
  return [
    `Usage: ${program} --job NAME [--image IMAGE] [--FLAG VALUE]...`,
    '',
    wrap(
      'Run a pre-deploy job, such as a database migration, as a Google Cloud Run job: create or update the job, ' +
        'execute it once, print its logs, wait for it, and exit non-zero when it fails.',
      '',
    ),
    '',
    wrap(
      'Each flag sets the GitHub Action input of the same name, with dashes or underscores (--project-id or ' +
        '--project_id); a repeated list flag adds one entry per line.',
      '',
    ),
    '',
    'Flags:',
    ...inputs,
    '',
    entry('--output-file FILE', 'Write the outputs to FILE as name=value lines (a dotenv file) instead of printing them.'),
    entry('--debug', 'Also print debug lines, such as retried calls, on stderr.'),
    entry('--help, -h', 'Show this help.'),
    entry('--version', 'Show the version.'),
    '',
    'Outputs, printed as name=value lines at the end:',
    ...outputs,
    '',
    'Environment:',
    entry(
      'Credentials',
      'Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`, ' +
        'or the metadata server on Google Cloud (Cloud Build, GKE, Compute Engine).',
    ),
    entry('GOOGLE_CLOUD_PROJECT', 'The project when --project-id is not given.'),
    entry('CLOUD_RUN_EMULATOR_HOST=HOST:PORT', 'Talk to a Cloud Run emulator instead, in plaintext, without credentials.'),
    '',
    wrap(
      'Exit status: 0 when the job succeeded (or started, with --wait false); 1 when it failed, was interrupted or ' +
        'could not run; 2 for bad usage or a bad value, such as an unknown flag, an invalid input or an --output-file ' +
        'that cannot be written, found before anything runs.',
      '',
    ),
  ].join('\n');
}
