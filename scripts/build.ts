import {execFile} from 'node:child_process';
import {rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {ACTION_JSON, actionJson} from './action-json.ts';
import {ROOT} from './local-runner.ts';
import {writeDescriptors} from './descriptors.ts';

/**
 * npm run build: dist/ is the action's bundle and dist/cli/ the command line's, each a single
 * file with what it loads beside it. The output is emptied first, since ncc leaves behind the
 * chunks of an earlier build.
 */
const NCC = join(ROOT, 'node_modules/@vercel/ncc/dist/ncc/cli.js');

const bundle = (entry: string, out: string) =>
  promisify(execFile)(process.execPath, [NCC, 'build', entry, '-o', out, '--license', 'licenses.txt'], {cwd: ROOT});

export async function build(out: string): Promise<void> {
  await rm(out, {recursive: true, force: true});
  await bundle('src/index.ts', out);
  await bundle('src/cli.ts', join(out, 'cli'));
}

if (import.meta.main) {
  await writeFile(ACTION_JSON, await actionJson());
  await writeDescriptors();
  await build(join(ROOT, 'dist'));
  console.log('Built dist/ (the action) and dist/cli/ (the command line).');
}
