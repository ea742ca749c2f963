import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdir} from 'node:fs/promises';
import {createServer, type Server} from 'node:http';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import type {Emulator} from '../emulator/index.ts';
import {copyCli, type CliRun, type CopiedCli} from './support/cli.ts';
import {startTestEmulator} from './support/emulated.ts';

const IMAGE = 'us-docker.pkg.dev/test-project/app/migrate:1';
const node = (script: string) => JSON.stringify(['node', '-e', script]);

let emulator: Emulator;
let copy: CopiedCli;
let dir: string;
let cli: string;

before(async () => {
  emulator = await startTestEmulator();
  copy = await copyCli('cli-habits-');
  ({dir, path: cli} = copy);
});

after(async () => {
  await emulator.stop();
  await copy.remove();
});

const cloudRunMigrate = (args: string[], env: Record<string, string> = {CLOUD_RUN_EMULATOR_HOST: emulator.address}): Promise<CliRun> =>
  copy.run(args, env);

const job = (name: string, ...more: string[]) => ['--job', name, '--project-id', 'test-project', '--image', IMAGE, ...more];
const callsFor = (name: string) => emulator.calls.filter((call) => JSON.stringify(call.request).includes(`jobs/${name}`));

describe('the command line, as scripts and terminals expect it', () => {
  it('exits 2 for an invalid value, before calling Cloud Run, and 1 for a failed migration', async () => {
    const bad = await cloudRunMigrate(job('bad-value', '--timeout', 'ten minutes'));
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'error: Input "timeout" must be a duration such as 90s, 10m, 1h30m or a number of seconds, got "ten minutes"\n');
    assert.equal(bad.stdout, '', 'no outputs: nothing ran');
    assert.equal(callsFor('bad-value').length, 0);
    const badHost = await cloudRunMigrate(job('bad-host'), {CLOUD_RUN_EMULATOR_HOST: 'localhost'});
    assert.equal(badHost.code, 2);
    assert.equal(badHost.stderr, 'error: CLOUD_RUN_EMULATOR_HOST must be HOST:PORT, got "localhost"\n');
    const failed = await cloudRunMigrate(job('exits-four', '--command', node('process.exit(4)')));
    assert.equal(failed.code, 1);
  });

  it('takes values that start with a dash: --args -c and --args \'-c "…"\'', async () => {
    const quoted = await cloudRunMigrate(job('dash-quoted', '--command', 'sh', '--args', '-c "echo hello from sh"'));
    assert.equal(quoted.code, 0, quoted.stderr);
    assert.match(quoted.stdout, /^hello from sh$/m);
    const bare = await cloudRunMigrate(job('dash-bare', '--command', JSON.stringify(['printf', '%s\n']), '--args', '-c'));
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, /^-c$/m);
  });

  it('refuses an --output-file it could not write, with exit 2, before anything runs', async () => {
    const folder = join(dir, 'a-folder');
    await mkdir(folder);
    for (const [file, why] of [
      [join(dir, 'missing', 'migrate.env'), `the folder ${join(dir, 'missing')} does not exist`],
      [folder, 'it is a folder'],
    ]) {
      const result = await cloudRunMigrate(job('unwritable', '--command', node(''), '--output-file', file));
      assert.equal(result.code, 2, file);
      assert.equal(result.stderr, `error: --output-file ${file} cannot be written: ${why}\nRun "cloud-run-migrate --help" to see the flags.\n`);
    }
    assert.equal(callsFor('unwritable').length, 0, 'the migration did not run');
  });

  it('says "Interrupted" on Ctrl-C, cancels the execution, and exits 1', async () => {
    const args = job('ctrl-c', '--command', node('console.log("migrating"); setTimeout(() => {}, 60000)'));
    const child = spawn(process.execPath, [cli, ...args], {env: {PATH: process.env.PATH ?? '', HOME: dir, CLOUD_RUN_EMULATOR_HOST: emulator.address}, cwd: dir});
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!interrupted && /^migrating$/m.test(stdout)) interrupted = child.kill('SIGINT');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('close', (exitCode, signal) => resolve(exitCode ?? signal)));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^error: Interrupted while execution ctrl-c-\w{5} of job ctrl-c was running: it was cancelled\. Logs: https:\/\//);
    assert.doesNotMatch(stderr, /workflow/);
    assert.equal(emulator.callsTo('CancelExecution').filter((c) => c.request.name.includes('/ctrl-c/')).length, 1);
  });

  it('prints one error line and no library warning when there are no credentials', async () => {
    // A metadata server that refuses, as a proxy might: gcp-metadata warns about what it did not expect.
    const metadata: Server = createServer((_req, res) => res.writeHead(403).end());
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    try {
      const {port} = metadata.address() as {port: number};
      const result = await cloudRunMigrate(['--job', 'migrate', '--project-id', 'test-project'], {GCE_METADATA_HOST: `127.0.0.1:${port}`});
      assert.equal(result.code, 1);
      assert.deepEqual(result.stderr.trimEnd().split('\n'), [
        'error: No Google Cloud credentials were found. Add a google-github-actions/auth step before this one ' +
          '(with "permissions: id-token: write" on the job), or set GOOGLE_APPLICATION_CREDENTIALS.',
      ]);
      const debug = await cloudRunMigrate(['--job', 'migrate', '--project-id', 'test-project', '--debug'], {GCE_METADATA_HOST: `127.0.0.1:${port}`});
      assert.match(debug.stderr, /^debug: MetadataLookupWarning: received unexpected error/m);
    } finally {
      metadata.close();
    }
  });

  it('says the exit codes in --help', async () => {
    const help = (await cloudRunMigrate(['--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(help, /Exit status: 0 when the job succeeded .*; 1 when it failed, was interrupted or could not run; 2 for bad usage or a bad value/);
  });
});
