// The npm package, as another CI installs it: packed, installed offline into an empty folder far
// from this repository's node_modules, and its two commands run against each other.
import assert from 'node:assert/strict';
import {execFile, spawn} from 'node:child_process';
import {once} from 'node:events';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {delimiter, dirname, join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {promisify} from 'node:util';
import {ROOT} from '../scripts/local-runner.ts';

const run = promisify(execFile);
/** The commands' `#!/usr/bin/env node` finds Node 24 first, as on a machine that has it. */
const env = {...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}`};

let dir: string;
let project: string;
let packed: {files: Array<{path: string}>; filename: string};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'package-'));
  project = join(dir, 'project');
  await mkdir(project);
  const {stdout} = await run('npm', ['pack', '--json', '--pack-destination', dir], {cwd: ROOT, env});
  packed = JSON.parse(stdout)[0];
  await writeFile(join(project, 'package.json'), '{"private": true}\n');
  // Offline: a package with no dependencies needs nothing from a registry.
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, packed.filename)], {cwd: project, env});
});

after(() => rm(dir, {recursive: true, force: true}));

const bin = (name: string) => join(project, 'node_modules/.bin', name);

describe('the npm package', () => {
  it('ships the command line, the emulator and their docs, and nothing else', async () => {
    const paths = packed.files.map((file) => file.path);
    const outside = paths.filter((path) => !/^dist\/(cli|emulator)\//.test(path));
    assert.deepEqual(outside.sort(), ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
    for (const entry of ['dist/cli/index.js', 'dist/emulator/index.js', 'dist/emulator/protos/google/cloud/run/v2/job.proto']) {
      assert.ok(paths.includes(entry), entry);
    }
    const {default: pkg} = await import('../package.json', {with: {type: 'json'}});
    assert.equal('dependencies' in pkg, false, 'the bundles carry what they use');
  });

  it('runs jobs with the installed command line against the installed emulator: exit 0 when one succeeds, 1 when it fails', {timeout: 60_000}, async () => {
    const emulator = spawn(bin('cloud-run-migrate-emulator'), ['--port', '0'], {cwd: project, env, stdio: ['ignore', 'pipe', 'pipe']});
    let calls = '';
    emulator.stderr.setEncoding('utf8').on('data', (text: string) => (calls += text));
    try {
      let printed = '';
      const address = await new Promise<string>((resolve, reject) => {
        emulator.stdout.setEncoding('utf8').on('data', (text: string) => {
          printed += text;
          const match = /CLOUD_RUN_EMULATOR_HOST=(\S+)/.exec(printed);
          if (match) resolve(match[1]);
        });
        emulator.once('exit', (code) => reject(new Error(`the emulator exited with ${code}: ${printed}${calls}`)));
      });

      const migrate = (job: string, script: string) =>
        run(
          bin('cloud-run-migrate'),
          [
            '--job', job,
            '--project-id', 'package-project',
            '--region', 'europe-west1',
            '--image', 'us-docker.pkg.dev/package-project/app/hello:1',
            '--command', JSON.stringify(['node', '-e', script]),
          ],
          {cwd: project, env: {...env, CLOUD_RUN_EMULATOR_HOST: address}},
        );

      const {stdout} = await migrate('hello', "console.log('hello from the package')");
      const lines = stdout.split('\n');
      assert.ok(lines.includes('hello from the package'), stdout);
      assert.ok(lines.includes('status=succeeded'), stdout);
      assert.ok(lines.includes('exit_code=0'), stdout);

      const failed = await migrate('broken', "console.error('no such table'); process.exit(3)").then(
        () => assert.fail('a failed migration exits with 1'),
        (err) => err,
      );
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /^error: Execution broken-\S+ of job broken failed after [\d.]+ s: the container exited with code 3/m);
      assert.ok(failed.stdout.split('\n').includes('status=failed'), failed.stdout);
      assert.equal(calls.match(/Jobs\/CreateJob OK/g)?.length, 2, calls);
      assert.equal(calls.match(/Jobs\/RunJob OK/g)?.length, 2, calls);
    } finally {
      emulator.kill('SIGTERM');
      if (emulator.exitCode === null) await once(emulator, 'exit');
    }
    assert.match(calls, /Cloud Run emulator stopped/);
  });

  it('answers npx by its name, offline, with the package\'s version', async () => {
    const {stdout: help} = await run('npx', ['--offline', 'cloud-run-migrate', '--help'], {cwd: project, env});
    assert.match(help, /--job/);
    const {stdout: version} = await run('npx', ['--offline', 'cloud-run-migrate', '--version'], {cwd: project, env});
    assert.equal(version.trim(), (await import('../package.json', {with: {type: 'json'}})).default.version);
  });
});
