import assert from 'node:assert/strict';
import {execFile, execFileSync} from 'node:child_process';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import type {Emulator} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun} from '../scripts/local-runner.ts';
import {startTestEmulator} from './support/emulated.ts';

const PROJECT = 'marks-project';
const IMAGE = 'us-docker.pkg.dev/marks-project/app/migrate:1';
/** A job that writes each [stream, line] pair given as its argument, stdout ("out") or stderr ("err"). */
const WRITER = JSON.stringify(['node', '-e', 'for (const [s, l] of JSON.parse(process.argv[1])) (s === "err" ? console.error : console.log)(l)']);
const writes = (lines: Array<['out' | 'err', string]>) => JSON.stringify([JSON.stringify(lines)]);
const json = (fields: object) => JSON.stringify(fields);

const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';
const ERROR = `${RED}ERROR${RESET} `;
const WARNING = `${YELLOW}WARNING${RESET} `;
/** What the log viewer shows of a line as text: SGR sequences are rendered as colours, not characters. */
const shown = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, '');

let emulator: Emulator;
before(async () => {
  emulator = await startTestEmulator();
});
after(() => emulator.stop());

const action = (job: string, lines: Array<['out' | 'err', string]>) =>
  runAction({inputs: {project_id: PROJECT, image: IMAGE, job, command: WRITER, args: writes(lines)}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});

/** Whether `line` was printed between a ::stop-commands:: and its end token, so that it cannot act as a command. */
const fencedIn = (result: ActionRun, line: string) =>
  result.stdout.split(/(?=^::stop-commands::)/m).some((batch) => {
    const token = /^::stop-commands::(\w+)\n/.exec(batch)?.[1];
    return token !== undefined && batch.includes(`\n${line}\n`) && batch.indexOf(`\n${line}\n`) < batch.indexOf(`\n::${token}::`);
  });

describe("the job's errors and warnings stand out in the workflow log", () => {
  it('marks a stderr line and an ERROR line in red and a WARNING line in yellow, fenced, and leaves a stdout line unmarked', async () => {
    const result = await action('marked', [
      ['out', 'Applying 002_users.sql'],
      ['err', 'relation "users" already exists'],
      ['out', json({severity: 'ERROR', message: 'could not apply 002_users.sql'})],
      ['out', json({severity: 'CRITICAL', message: 'disk full'})],
      ['out', json({severity: 'WARNING', message: 'lock held for 12 s'})],
    ]);
    assert.equal(result.code, 0, result.log.join('\n'));
    for (const line of [
      `${ERROR}relation "users" already exists`,
      `${ERROR}could not apply 002_users.sql`,
      `${RED}CRITICAL${RESET} disk full`,
      `${WARNING}lock held for 12 s`,
    ]) {
      assert.ok(result.stdout.includes(`\n${line}\n`), `the runner receives ${JSON.stringify(line)}`);
      assert.ok(fencedIn(result, line), `${JSON.stringify(line)} is among fenced lines`);
      assert.ok(result.log.includes(line), `${JSON.stringify(line)} is in the displayed log`);
    }
    const texts = result.log.map(shown);
    for (const text of ['ERROR relation "users" already exists', 'ERROR could not apply 002_users.sql', 'CRITICAL disk full', 'WARNING lock held for 12 s']) {
      assert.ok(texts.includes(text), `the viewer shows "${text}"`);
    }
    assert.ok(result.log.includes('Applying 002_users.sql'), 'a stdout line is shown as it is');
    assert.deepEqual(result.annotations, [], 'a mark is no workflow command');
  });

  it('shows a structured line as its severity and message, then the rest of its JSON, if any', async () => {
    const result = await action('structured-marks', [
      ['out', json({severity: 'NOTICE', message: 'applied 3 migrations', count: 3, tables: ['users']})],
      ['out', json({severity: 'INFO', message: 'done'})],
      ['out', json({severity: 'WARNING', table: 'users', rows: 0})],
      ['out', json({message: 'no severity given', step: 2})],
      ['err', json({message: 'a JSON line on stderr'})],
      ['out', json({severity: 'ERROR', message: 'Error: boom\n    at migrate (migrate.js:1:1)'})],
      ['out', json({severity: 'DEBUG', message: {nested: true}})],
    ]);
    assert.equal(result.code, 0, result.log.join('\n'));
    for (const line of [
      'NOTICE applied 3 migrations {"count":3,"tables":["users"]}',
      'INFO done',
      `${WARNING}{"table":"users","rows":0}`,
      'no severity given {"step":2}',
      `${ERROR}a JSON line on stderr`,
      `${ERROR}Error: boom`,
      `${ERROR}    at migrate (migrate.js:1:1)`,
      'DEBUG {"message":{"nested":true}}',
    ]) {
      assert.ok(result.log.includes(line), `${JSON.stringify(line)} is in the log:\n${result.log.join('\n')}`);
    }
  });

  it('cleans the escape sequences out of a job line before marking it, so that no line can fake a mark', async () => {
    const fakeError = `${ERROR}not an error`;
    const fakeWarning = `${WARNING}not a warning`;
    const result = await action('fake-marks', [
      ['out', fakeError],
      ['err', fakeWarning],
      ['out', json({message: `${fakeError} in JSON`})],
    ]);
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.ok(result.log.includes('ERROR not an error'), 'printed as text, uncoloured');
    assert.ok(result.log.includes(`${ERROR}WARNING not a warning`), "marked with its entry's severity alone");
    assert.ok(result.log.includes('ERROR not an error in JSON'));
    assert.ok(!result.stdout.includes(fakeError) && !result.stdout.includes(fakeWarning), 'the job wrote no escape sequence through');
  });

  it('puts the mark after the task and attempt of a job with several tasks', async () => {
    const script = [
      'const [task, attempt] = [process.env.CLOUD_RUN_TASK_INDEX, Number(process.env.CLOUD_RUN_TASK_ATTEMPT)];',
      'console.log("hello from " + task);',
      'console.error("complaint from " + task);',
      // The retry stays up a while, so that its lines are read while it runs.
      'setTimeout(() => process.exit(task === "1" && attempt === 0 ? 1 : 0), attempt > 0 ? 1000 : 0);',
    ].join(' ');
    emulator.putJob({
      name: `projects/${PROJECT}/locations/us-central1/jobs/two-marked-tasks`,
      template: {taskCount: 2, parallelism: 2, template: {maxRetries: 1, containers: [{image: IMAGE, command: ['node', '-e', script]}]}},
    });
    const result = await runAction({
      inputs: {project_id: PROJECT, job: 'two-marked-tasks', task_count: '2', max_retries: '1'},
      env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
    });
    assert.equal(result.code, 0, result.log.join('\n'));
    for (const line of [
      '[task 0] hello from 0',
      `[task 0] ${ERROR}complaint from 0`,
      `[task 1] ${ERROR}complaint from 1`,
      `[task 1] ${WARNING}Container called exit(1).`,
      '[task 1, attempt 2] hello from 1',
      `[task 1, attempt 2] ${ERROR}complaint from 1`,
    ]) {
      assert.ok(result.log.includes(line), `${JSON.stringify(line)} is in the log:\n${result.log.join('\n')}`);
    }
  });
});

describe('the command line marks the same lines, coloured only on a terminal', () => {
  const CLI = join(ROOT, 'dist/cli/index.js');
  const LINES: Array<['out' | 'err', string]> = [
    ['err', 'relation "users" already exists'],
    ['out', json({severity: 'WARNING', message: 'lock held for 12 s'})],
    ['out', 'Applying 002_users.sql'],
  ];
  const flags = (job: string) => ['--job', job, '--project-id', PROJECT, '--image', IMAGE, '--command', WRITER, '--args', writes(LINES)];
  const env = (more: Record<string, string> = {}) => ({PATH: process.env.PATH ?? '', HOME: tmpdir(), CLOUD_RUN_EMULATOR_HOST: emulator.address, ...more});

  it('prints the marks without colour when stdout is no terminal', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [CLI, ...flags('cli-marks')], {env: env()}, (err, out) => (err ? reject(err) : resolve(out))),
    );
    const lines = stdout.split('\n');
    assert.ok(lines.includes('ERROR relation "users" already exists'), stdout);
    assert.ok(lines.includes('WARNING lock held for 12 s'), stdout);
    assert.ok(lines.includes('Applying 002_users.sql'), stdout);
    assert.ok(!stdout.includes('\x1b'), 'no escape sequence at all');
  });

  /** Runs the command line with a terminal for stdout, as util-linux's script gives it one. */
  const onTerminal = (job: string, more?: Record<string, string>) => {
    const command = [process.execPath, CLI, ...flags(job)].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
    return new Promise<string>((resolve, reject) =>
      execFile('script', ['-qec', command, '/dev/null'], {env: env(more)}, (err, out) => (err ? reject(err) : resolve(out))),
    );
  };
  const hasScript = (() => {
    try {
      execFileSync('script', ['-qec', 'true', '/dev/null']);
      return true;
    } catch {
      return false;
    }
  })();

  it('colours the marks on a terminal, unless NO_COLOR is set', {skip: !hasScript && 'needs util-linux script for a terminal'}, async () => {
    const coloured = await onTerminal('cli-marks-terminal');
    assert.ok(coloured.includes(`${ERROR}relation "users" already exists`), coloured);
    assert.ok(coloured.includes(`${WARNING}lock held for 12 s`), coloured);
    const plain = await onTerminal('cli-marks-no-color', {NO_COLOR: '1'});
    assert.ok(plain.includes('ERROR relation "users" already exists'), plain);
    assert.ok(!plain.includes('\x1b'), plain);
  });
});
