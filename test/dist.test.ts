import assert from 'node:assert/strict';
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, relative} from 'node:path';
import {it} from 'node:test';
import {build} from '../scripts/build.ts';
import {ROOT} from '../scripts/local-runner.ts';

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true});
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

it('dist/ is the build of src/, the action and the command line alike', {timeout: 180_000}, async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'dist-')), 'dist');
  try {
    await build(out);
    const built = await files(out);
    assert.ok(built.includes('index.js') && built.includes('cli/index.js'), 'both bundles were built');
    assert.deepEqual(await files(join(ROOT, 'dist')), built, 'dist/ has the files of a fresh build');
    for (const file of built) {
      const same = (await readFile(join(out, file))).equals(await readFile(join(ROOT, 'dist', file)));
      assert.ok(same, `dist/${file} differs from a fresh build: run "npm run build" and commit dist/`);
    }
    for (const file of built.filter((name) => name.endsWith('.js'))) {
      assert.match(await readFile(join(out, file), 'latin1'), /^[\0-\x7f]*$/, `dist/${file} is ASCII, so V8 keeps it as one-byte text`);
    }
  } finally {
    await rm(join(out, '..'), {recursive: true, force: true});
  }
});
