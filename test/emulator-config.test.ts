import assert from 'node:assert/strict';
import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {connect} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {ConfigError, parseConfig} from '../emulator/config.ts';
import {startEmulator} from '../emulator/index.ts';
import {ROOT} from '../scripts/local-runner.ts';

const CLI = join(ROOT, 'dist/cli/index.js');
const MAIN = join(ROOT, 'emulator/main.ts');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-config-'));
});
after(async () => {
  await rm(dir, {recursive: true, force: true});
});

const refused = (json: unknown, message: RegExp) =>
  assert.throws(
    () => parseConfig(typeof json === 'string' ? json : JSON.stringify(json), 'emulator.json'),
    (err: Error) => err instanceof ConfigError && message.test(err.message),
  );

describe('the emulator config file', () => {
  it('refuses a bad field with the file, the field and what it must be', () => {
    refused('{"secrets": ', /^emulator\.json: the file is not valid JSON/);
    refused([], /^emulator\.json: the file must hold a JSON object$/);
    refused({secret: {}}, /^emulator\.json: secret is not a field the emulator knows \(it knows workdir, images, secrets,/);
    refused({secrets: {'db-url': 'x'}}, /^emulator\.json: secrets\["db-url"\] must be named projects\/PROJECT\/secrets\/NAME\/versions\/VERSION/);
    refused({secrets: {'projects/p/secrets/db/versions/1': 42}}, /secrets\["projects\/p\/secrets\/db\/versions\/1"\] must be the secret's value as a string, got number/);
    refused({images: {'app:1': {command: 'node migrate.mjs'}}}, /^emulator\.json: images\["app:1"\]\.command must be an array of strings/);
    refused({images: {'app:1': {entrypoint: []}}}, /^emulator\.json: images\["app:1"\]\.entrypoint is not a field the emulator knows \(it knows command, args\)/);
    refused({faults: {method: 'RunJob'}}, /^emulator\.json: faults must be a JSON array/);
    refused({faults: [{code: 'UNAVAILABLE'}]}, /^emulator\.json: faults\[0\]\.method must be a method name such as "RunJob"/);
    refused({faults: [{method: 'RunJob', code: 'UNAVAILBLE'}]}, /^emulator\.json: faults\[0\]\.code must be a gRPC status such as "UNAVAILABLE" or its number \(14\), got "UNAVAILBLE"/);
    refused({faults: [{method: 'RunJob', times: 0}]}, /faults\[0\]\.times must be a whole number above 0, or "Infinity", got 0/);
    refused({faults: [{method: 'RunJob', when: 'x'}]}, /faults\[0\]\.when is not a field the emulator knows/);
    refused({faults: [{method: 'RunJob', match: {name: ['a']}}]}, /faults\[0\]\.match\["name"\] must be a string, number or boolean/);
    refused({latency: {GetExecution: '200ms'}}, /^emulator\.json: latency\["GetExecution"\] must be a whole number of milliseconds, got "200ms"/);
    refused({killGraceMs: -1}, /^emulator\.json: killGraceMs must be a whole number of milliseconds/);
  });

  it('reads faults with status names, "Infinity" and a match on request fields, and latency after them', () => {
    const config = parseConfig(
      JSON.stringify({
        faults: [{method: 'RunJob', code: 'PERMISSION_DENIED', times: 'Infinity', match: {name: 'projects/p/locations/r/jobs/a', 'overrides.taskCount': 2}}],
        latency: {GetExecution: 200},
      }),
      join(dir, 'emulator.json'),
    );
    const [fault, latency] = config.faults ?? [];
    assert.deepEqual({...fault, when: undefined}, {method: 'RunJob', code: 7, times: Infinity, when: undefined});
    assert.equal(fault.when?.({name: 'projects/p/locations/r/jobs/a', overrides: {taskCount: 2}}), true);
    assert.equal(fault.when?.({name: 'projects/p/locations/r/jobs/a'}), false);
    assert.deepEqual(latency, {method: 'GetExecution', delayMs: 200, times: Infinity});
  });

  it('takes a relative workdir from the file\'s folder', () => {
    assert.equal(parseConfig('{"workdir": "sample"}', join(dir, 'emulator.json')).workdir, join(dir, 'sample'));
  });

  it('refuses a fault on a method the emulator does not serve', async () => {
    await assert.rejects(startEmulator({faults: [{method: 'RunJb'}]}), /A fault rule names the method RunJb, which the emulator does not serve/);
  });
});

interface Standalone {
  child: ChildProcess;
  address: string;
  stderr: () => string;
}

/** Starts the standalone emulator as a user would, and waits for the address it prints. */
async function standalone(command: string, args: string[]): Promise<Standalone> {
  const child = spawn(command, args, {cwd: ROOT, env: {...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`}});
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const found = /CLOUD_RUN_EMULATOR_HOST=(\S+)/.exec(stdout);
      if (found) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited with ${code}: ${stderr}`)));
  });
  return {child, address, stderr: () => stderr};
}

function cli(address: string, ...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  const env = {PATH: process.env.PATH ?? '', HOME: dir, CLOUD_RUN_EMULATOR_HOST: address};
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, '--project-id', 'test-project', ...args], {env, cwd: dir}, (err, stdout, stderr) =>
      resolve({code: err ? Number(err.code) : 0, stdout, stderr}),
    ),
  );
}

/** Whether a process still runs: a zombie, waiting for its parent to reap it, does not. */
const alive = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !/^\d+ \(.*\) Z/s.test(stat);
};

/** Every process below `pid`, as ps lists them. */
async function descendants(pid: number): Promise<number[]> {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('ps', ['-e', '-o', 'pid=,ppid='], (err, out) => (err ? reject(err) : resolve(out))),
  );
  const pairs = stdout.trim().split('\n').map((line) => line.trim().split(/\s+/).map(Number));
  const below = (parent: number): number[] => pairs.filter(([, ppid]) => ppid === parent).flatMap(([child]) => [child, ...below(child)]);
  return below(pid);
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  // A bound that only catches a hang.
  for (const end = Date.now() + 20_000; Date.now() < end; await sleep(50)) if (await condition()) return;
  assert.fail(`timed out waiting until ${what}`);
}

const refusesConnections = (address: string) =>
  new Promise<boolean>((resolve) => {
    const [host, port] = address.split(':');
    const socket = connect(Number(port), host);
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

/** Runs a job (without waiting) whose task writes its pid to `pidFile` and then sleeps. */
async function startSleeper(address: string, job: string, pidFile: string): Promise<number> {
  const script = 'require("fs").writeFileSync(process.env.PID_FILE, String(process.pid)); setInterval(() => {}, 1000)';
  const started = await cli(address, '--job', job, '--image', 'app:1', '--command', JSON.stringify(['node', '-e', script]), '--env-vars', `PID_FILE=${pidFile}`, '--wait', 'false');
  assert.equal(started.code, 0, started.stderr);
  await until(() => existsSync(pidFile), 'the task wrote its pid');
  return Number(await readFile(pidFile, 'utf8'));
}

describe('the standalone emulator', () => {
  it('gives the job the secrets and the image entrypoint of its --config file', async () => {
    const config = join(dir, 'secrets.json');
    const check = 'console.log(process.env.DATABASE_URL === "sqlite://from-config" ? "the secret arrived" : "no secret")';
    await writeFile(
      config,
      JSON.stringify({
        secrets: {'projects/test-project/secrets/database-url/versions/1': 'sqlite://from-config'},
        images: {'app:1': {command: ['node', '-e', check]}},
      }),
    );
    const emulator = await standalone(process.execPath, [MAIN, '--config', config]);
    try {
      const result = await cli(emulator.address, '--job', 'from-config', '--image', 'app:1', '--secrets', 'DATABASE_URL=database-url:latest');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^the secret arrived$/m);
      assert.ok(!result.stdout.includes('sqlite://from-config'), 'the secret is not printed');
      const missing = await cli(emulator.address, '--job', 'not-in-registry', '--image', 'app:2');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^error: CreateJob \S+\/jobs\/not-in-registry failed: Image 'app:2' not found\./m);
    } finally {
      emulator.child.kill('SIGTERM');
    }
  });

  it('answers with the faults of its --config file', async () => {
    const config = join(dir, 'faults.json');
    const job = 'projects/test-project/locations/us-central1/jobs/denied';
    await writeFile(config, JSON.stringify({faults: [{method: 'RunJob', code: 'PERMISSION_DENIED', message: "Permission 'run.jobs.run' denied", times: 'Infinity', match: {name: job}}]}));
    const emulator = await standalone(process.execPath, [MAIN, '--config', config]);
    try {
      const denied = await cli(emulator.address, '--job', 'denied', '--image', 'app:1', '--command', '["true"]');
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /^error: RunJob .*jobs\/denied failed: Permission 'run\.jobs\.run' denied\. The workflow's identity lacks the permission run\.jobs\.run/m);
      const other = await cli(emulator.address, '--job', 'allowed', '--image', 'app:1', '--command', '["true"]');
      assert.equal(other.code, 0, other.stderr);
    } finally {
      emulator.child.kill('SIGTERM');
    }
  });

  it('exits with a usage error, naming the file, for a config it cannot use', async () => {
    const config = join(dir, 'bad.json');
    await writeFile(config, '{"images": {"app:1": {"command": "node"}}}');
    const result = await new Promise<{code: number; stderr: string}>((resolve) =>
      execFile(process.execPath, [MAIN, '--config', config], (err, _out, stderr) => resolve({code: err ? Number(err.code) : 0, stderr})),
    );
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `${config}: images["app:1"].command must be an array of strings, such as ["node", "migrate.mjs"], got "node"\n`);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops on ${signal}, kills its task processes and exits, while a task runs`, async () => {
      const emulator = await standalone(process.execPath, [MAIN]);
      const task = await startSleeper(emulator.address, `sleeper-${signal.toLowerCase()}`, join(dir, `${signal}.pid`));
      const exited = new Promise((resolve) => emulator.child.once('exit', (code, sig) => resolve(code ?? sig)));
      emulator.child.kill(signal);
      assert.equal(await exited, 0);
      assert.match(emulator.stderr(), /Cloud Run emulator stopped\n$/);
      await until(async () => !(await alive(task)), 'the task process is gone');
    });
  }

  // SIGKILL: npm passes nothing on, and the emulator stops when it finds its parent gone.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
    it(`leaves nothing behind when \`npm run emulator\`, the process a shell's $! names, gets ${signal}`, async () => {
      const emulator = await standalone('npm', ['run', '--silent', 'emulator']);
      const npm = emulator.child.pid as number;
      const below = await descendants(npm);
      assert.ok(below.length >= 1, 'npm runs the emulator as a child');
      const task = await startSleeper(emulator.address, `sleeper-npm-${signal.toLowerCase()}`, join(dir, `npm-${signal}.pid`));
      emulator.child.kill(signal);
      await until(async () => (await Promise.all([npm, ...below, task].map(alive))).every((up) => !up), 'npm, the emulator and its task are gone');
      assert.ok(await refusesConnections(emulator.address), 'nothing listens any more');
    });
  }
});
