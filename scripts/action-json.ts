import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {parse as parseYaml} from 'yaml';
import {ROOT} from './local-runner.ts';

/**
 * action.yml as JSON, for the command-line entry point: its flags, defaults and --help come
 * from the action's own inputs, and a JSON import is inlined into the bundle, which then needs
 * neither action.yml nor a YAML parser at run time. `npm run build` writes it before bundling.
 */
export const ACTION_JSON = join(ROOT, 'src/action.json');

export async function actionJson(): Promise<string> {
  const action = parseYaml(await readFile(join(ROOT, 'action.yml'), 'utf8'));
  return `${JSON.stringify(action, null, 2)}\n`;
}

if (import.meta.main) await writeFile(ACTION_JSON, await actionJson());
