import assert from 'node:assert/strict';
import type {ChildProcess} from 'node:child_process';
import {after, before, describe, it} from 'node:test';
import {Status} from 'google-gax';
import {startEmulator, type Emulator} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun} from '../scripts/local-runner.ts';
import {startTestEmulator} from './support/emulated.ts';

const PROJECT = 'logs-project';
const IMAGE = 'us-docker.pkg.dev/logs-project/app/migrate:1';
const node = (script: string) => JSON.stringify(['node', '-e', script]);
/** The marks of an ERROR and a WARNING line, as the runner receives them: coloured. */
const ERROR = '\x1b[31mERROR\x1b[0m ';
const WARNING = '\x1b[33mWARNING\x1b[0m ';

let emulator: Emulator;
before(async () => {
  emulator = await startTestEmulator();
});
after(() => emulator.stop());

const action = (inputs: Record<string, string>, target = emulator) =>
  runAction({inputs: {project_id: PROJECT, image: IMAGE, ...inputs}, env: {CLOUD_RUN_EMULATOR_HOST: target.address}});

/** The job's own lines in the displayed log: between "Logs:" and the verdict, less the action's lines. */
const jobLines = (result: ActionRun) => {
  const start = result.log.findIndex((l) => l.startsWith('Logs: ')) + 1;
  return result.log.slice(start).filter((l) => !/^(Execution |\d+ \/ \d+ complete|Last \d+ lines)/.test(l) && !l.startsWith('Error: '));
};

describe('the job\'s logs in the workflow log', () => {
  it('shows every line, in order, each once, for 5,000 lines printed at once', async () => {
    const result = await action({
      job: 'many-lines',
      command: node('for (let i = 0; i < 5000; i++) console.log("line " + i)'),
    });
    assert.equal(result.code, 0, result.stderr);
    const lines = jobLines(result).filter((l) => l.startsWith('line '));
    assert.equal(lines.length, 5000);
    lines.forEach((line, i) => assert.equal(line, `line ${i}`));
  });

  it('shows every line, in order, each once, for 100,000 lines of 100 bytes, while the tail and page reads overlap', async () => {
    const lines = 100_000;
    const result = await action({
      job: 'overlapping-reads',
      command: node(`for (let i = 0; i < ${lines}; i++) console.log(String(i).padStart(99, "x"))`),
    });
    assert.equal(result.code, 0, result.stderr);
    const printed = jobLines(result).filter((l) => l.startsWith('x'));
    printed.forEach((line, i) => assert.equal(line, String(i).padStart(99, 'x')));
    assert.equal(printed.length, lines);
  });

  it('waits for a workflow log reader that falls behind, and still shows every line in order, once', async () => {
    const lines = 50_000;
    let child: ChildProcess | undefined;
    const result = await runAction({
      inputs: {project_id: PROJECT, image: IMAGE, job: 'slow-reader', command: node(`for (let i = 0; i < ${lines}; i++) console.log("line " + i + " ".repeat(90))`)},
      env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
      onSpawn: (spawned) => (child = spawned),
      // The reader stops for a while once the job's lines come, so the action's writes back up.
      onLine: (line) => {
        if (!line.startsWith('line 0 ')) return;
        child?.stdout?.pause();
        setTimeout(() => child?.stdout?.resume(), 1500);
      },
    });
    assert.equal(result.code, 0, result.stderr);
    const printed = jobLines(result).filter((l) => l.startsWith('line '));
    assert.equal(printed.length, lines);
    printed.forEach((line, i) => assert.equal(line.trimEnd(), `line ${i}`));
  });

  it('shows a line of JSON the job wrote as its severity, its message, then the rest of that JSON, less the severity Logging lifts out of it', async () => {
    const result = await action({
      job: 'structured',
      command: node(
        'console.log(JSON.stringify({severity: "NOTICE", message: "applied 3 migrations", count: 3, ok: true, tags: ["a", null], detail: {ms: 12.5}}))',
      ),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(jobLines(result).includes('NOTICE applied 3 migrations {"count":3,"ok":true,"tags":["a",null],"detail":{"ms":12.5}}'), jobLines(result).join('\n'));
    const [entry] = emulator.logEntries().filter((e) => JSON.stringify(e).includes('applied 3 migrations')) as {severity?: string; textPayload?: string}[];
    assert.deepEqual([entry?.severity, entry?.textPayload], ['NOTICE', undefined]);
  });

  it('keeps the lines written just before the container exits, and the platform\'s exit line', async () => {
    const result = await action({
      job: 'last-words',
      command: node('console.log("first"); setTimeout(() => { console.log("last words"); process.stderr.write("no newline at the end"); process.exit(4); }, 300)'),
    });
    assert.equal(result.code, 1);
    const lines = jobLines(result);
    for (const expected of ['first', 'last words', `${ERROR}no newline at the end`, `${WARNING}Container called exit(4).`]) {
      assert.ok(lines.includes(expected), `"${expected}" is in the log:\n${lines.join('\n')}`);
    }
  });

  it('repeats the last lines of output under the error line of a failure', async () => {
    const result = await action({
      job: 'failure-tail',
      command: node('for (let i = 0; i < 50; i++) console.log("step " + i); console.error("ERROR: relation \\"users\\" already exists"); process.exit(1)'),
    });
    assert.equal(result.code, 1);
    const error = result.log.findIndex((l) => l.startsWith('Error: Execution failure-tail-'));
    assert.ok(error > 0);
    assert.match(result.log[error + 1], /^Last 20 lines of the job's output:$/);
    const tail = result.log.slice(error + 2, error + 22);
    assert.equal(tail.at(-2), `${ERROR}ERROR: relation "users" already exists`);
    assert.equal(tail.at(-1), `${WARNING}Container called exit(1).`);
  });

  it('lets no line of the job act as a workflow command or rewrite the log', async () => {
    const evil = [
      '::set-output name=status::succeeded',
      '::add-mask::migrated',
      '::error::injected error',
      '::warning file=app.js::injected warning',
      '::stop-commands::guess',
      '::save-state name=x::y',
      '\u001b[2J\u001b[31mred\u001b[0m and \u001b]0;title\u0007text',
      'carriage\rreturn',
      'x'.repeat(20_000),
      'migrated',
    ];
    const result = await action({
      job: 'evil-output',
      command: node('for (const line of JSON.parse(process.argv[1])) console.log(line)'),
      args: JSON.stringify([JSON.stringify(evil)]),
    });
    assert.equal(result.code, 0, result.log.join('\n'));
    assert.equal(result.outputs.status, 'succeeded');
    assert.deepEqual(result.annotations, []);
    assert.deepEqual(result.masks, []);
    const lines = jobLines(result);
    for (const text of evil.slice(0, 6)) assert.ok(lines.includes(text), `${text} is printed as text`);
    assert.ok(lines.includes('red and text'));
    assert.ok(lines.includes('carriage\\x0dreturn'));
    assert.ok(lines.some((l) => /^x{8192} … \[11808 more characters cut\]$/.test(l)));
    assert.ok(lines.includes('migrated'), 'the word "migrated" was not masked');
  });

  it('prefixes each line with its task when the job has several tasks', async () => {
    emulator.putJob({
      name: `projects/${PROJECT}/locations/us-central1/jobs/two-tasks`,
      template: {taskCount: 2, parallelism: 2, template: {maxRetries: 0, containers: [{image: IMAGE, command: ['node', '-e', 'console.log("hello from " + process.env.CLOUD_RUN_TASK_INDEX)']}]}},
    });
    const result = await runAction({inputs: {project_id: PROJECT, job: 'two-tasks', task_count: '2'}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}});
    assert.equal(result.code, 0, result.log.join('\n'));
    const lines = jobLines(result);
    assert.ok(lines.includes('[task 0] hello from 0'));
    assert.ok(lines.includes('[task 1] hello from 1'));
  });

  it('reads pages of entries, in order, when the tail stream is not available', async () => {
    const noTail = await startTestEmulator();
    noTail.faults.add({method: 'TailLogEntries', code: Status.UNIMPLEMENTED, times: Infinity});
    try {
      const result = await action({job: 'no-tail', command: node('for (let i = 0; i < 300; i++) console.log("line " + i)')}, noTail);
      assert.equal(result.code, 0, result.log.join('\n'));
      const lines = jobLines(result).filter((l) => l.startsWith('line '));
      assert.deepEqual(lines, Array.from({length: 300}, (_, i) => `line ${i}`));
      assert.ok(noTail.callsTo('ListLogEntries').length >= 1);
    } finally {
      await noTail.stop();
    }
  });

  it('warns once with the role to grant when logs cannot be read, and keeps the verdict', async () => {
    const denied = await startEmulator({workdir: ROOT});
    denied.denyPermission('logging.logEntries.list');
    try {
      const ok = await action({job: 'no-logs', command: node('console.log("hidden")')}, denied);
      assert.equal(ok.code, 0, ok.log.join('\n'));
      assert.equal(ok.outputs.status, 'succeeded');
      const warnings = ok.annotations.filter((a) => a.level === 'warning');
      assert.equal(warnings.length, 1);
      assert.match(warnings[0].message, /roles\/logging\.viewer/);
      assert.match(warnings[0].message, /Logs: https:\/\/console\.cloud\.google\.com\/logs\//);
      const failed = await action({job: 'no-logs-failing', command: node('process.exit(2)')}, denied);
      assert.equal(failed.code, 1);
      assert.equal(failed.outputs.status, 'failed');
      assert.equal(failed.outputs.exit_code, '2');
    } finally {
      await denied.stop();
    }
  });

  it('shows no log lines and reads no logs with logs: false', async () => {
    const before = emulator.callsTo('ListLogEntries').length + emulator.callsTo('TailLogEntries').length;
    const result = await action({job: 'quiet', command: node('console.log("not shown")'), logs: 'false'});
    assert.equal(result.code, 0);
    assert.ok(!result.log.includes('not shown'));
    assert.equal(emulator.callsTo('ListLogEntries').length + emulator.callsTo('TailLogEntries').length, before);
  });
});
