import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, relative} from 'node:path';
import {it} from 'node:test';
import {promisify} from 'node:util';
import {ROOT} from '../scripts/local-runner.ts';

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true});
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

it('dist/ is the build of src/', {timeout: 120_000}, async () => {
  const out = await mkdtemp(join(tmpdir(), 'dist-'));
  try {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/@vercel/ncc/dist/ncc/cli.js'), 'build', 'src/index.ts', '-o', out, '--license', 'licenses.txt'], {cwd: ROOT});
    const built = await files(out);
    assert.deepEqual(await files(join(ROOT, 'dist')), built, 'dist/ has the files of a fresh build');
    for (const file of built) {
      const same = (await readFile(join(out, file))).equals(await readFile(join(ROOT, 'dist', file)));
      assert.ok(same, `dist/${file} differs from a fresh build: run "npm run build" and commit dist/`);
    }
  } finally {
    await rm(out, {recursive: true, force: true});
  }
});
