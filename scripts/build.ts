import {execFile} from 'node:child_process';
import {cp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {join, relative, sep} from 'node:path';
import {promisify} from 'node:util';
import {protobuf} from 'google-gax';
import {FILES, findProto, INCLUDE_DIRS} from '../emulator/protos.ts';
import {ACTION_JSON, actionJson} from './action-json.ts';
import {asciiOnly} from './ascii.ts';
import {writeDescriptors} from './descriptors.ts';
import {ROOT} from './local-runner.ts';

/**
 * npm run build: dist/ is the action's bundle, dist/cli/ the command line's and dist/emulator/
 * the emulator's, each a single file with what it loads beside it. The output is emptied first,
 * since ncc leaves behind the chunks of an earlier build. The bundles are then written in ASCII (see scripts/ascii.ts).
 */
const NCC = join(ROOT, 'node_modules/@vercel/ncc/dist/ncc/cli.js');

const bundle = (entry: string, out: string) =>
  promisify(execFile)(process.execPath, [NCC, 'build', entry, '-o', out, '--license', 'licenses.txt'], {cwd: ROOT});

export async function build(out: string): Promise<void> {
  await rm(out, {recursive: true, force: true});
  await bundle('src/index.ts', out);
  await bundle('src/cli.ts', join(out, 'cli'));
  await bundle('scripts/emulator-bin.ts', join(out, 'emulator'));
  await copyEmulatorProtos(join(out, 'emulator/protos'));
  const scripts = (await readdir(out, {recursive: true})).filter((file) => file.endsWith('.js'));
  for (const file of scripts.map((name) => join(out, name))) {
    await writeFile(file, asciiOnly(await readFile(file, 'utf8'), file));
  }
}

/** The .proto files the emulator loads, found as it finds them, copied under their include paths. */
async function copyEmulatorProtos(out: string): Promise<void> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => findProto(target);
  root.loadSync(FILES, {keepCase: false});
  for (const file of root.files) {
    const dir = INCLUDE_DIRS.find((include) => file.startsWith(include + sep));
    if (dir) await cp(file, join(out, relative(dir, file)));
  }
}

/** What `npm run build` writes: the generated sources, then dist/. */
export async function buildAll(): Promise<void> {
  await writeFile(ACTION_JSON, await actionJson());
  await writeDescriptors();
  await build(join(ROOT, 'dist'));
}

if (import.meta.main) {
  await buildAll();
  console.log('Built dist/ (the action), dist/cli/ (the command line) and dist/emulator/ (the emulator).');
}
