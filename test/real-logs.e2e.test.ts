import assert from 'node:assert/strict';
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {Status} from 'google-gax';
import {startEmulator, type Emulator, type EmulatorOptions} from '../emulator/index.ts';
import {ROOT, runAction, type ActionRun, type RunOptions} from '../scripts/local-runner.ts';
import {clientOptions, type Execution} from '../src/clients.ts';
import type {Io} from '../src/io.ts';
import {loggingGax} from '../src/gax.ts';
import {LogFollower} from '../src/logs.ts';
import {severityMarks} from '../src/severity.ts';
import {LoggingServiceV2Client} from '@google-cloud/logging-api/build/src/v2/logging_service_v2_client.js';

/**
 * Logs as Cloud Logging meters and delivers them: read quotas shared by a project's runs, a
 * limit on open tails, entries that take a while to become readable or come out of order, and
 * an organisation's exclusion of the platform's own lines.
 */

const PROJECT = 'real-logs-project';
const IMAGE = 'us-docker.pkg.dev/real-logs-project/app/migrate:1';
const node = (script: string) => JSON.stringify(['node', '-e', script]);
const emulators: Emulator[] = [];
after(() => Promise.all(emulators.map((e) => e.stop())));

const emulatorWith = async (options: EmulatorOptions = {}) => {
  const emulator = await startEmulator({workdir: ROOT, killGraceMs: 200, logBufferMs: 50, ...options});
  emulators.push(emulator);
  return emulator;
};

const action = (emulator: Emulator, inputs: Record<string, string>, options: Partial<RunOptions> = {}) =>
  runAction({inputs: {project_id: PROJECT, image: IMAGE, max_retries: '0', ...inputs}, env: {CLOUD_RUN_EMULATOR_HOST: emulator.address}, ...options});

/** A job printing `count` numbered lines, one every `everyMs`. */
const counting = (name: string, count: number, everyMs: number) =>
  node(`let i = 0; const t = setInterval(() => { console.log("${name} line " + i); if (++i === ${count}) clearInterval(t); }, ${everyMs})`);

const numbered = (result: ActionRun, name: string) => result.log.filter((l) => l.startsWith(`${name} line `));
const expected = (name: string, count: number) => Array.from({length: count}, (_, i) => `${name} line ${i}`);

const completionMs = (emulator: Emulator, execution: string) => {
  const found = emulator.executions().find((e) => (e as Execution).name === execution) as Execution;
  return Number(found.completionTime?.seconds) * 1000 + (found.completionTime?.nanos ?? 0) / 1e6;
};

/** Whether a run read successfully after its reads were first refused for the quota. */
function recoveredFromQuotaErrors(emulator: Emulator, execution: string): boolean {
  const reads = emulator.callsTo('ListLogEntries').filter((c) => String(c.request.filter).includes(`"${execution}"`));
  const firstRefused = reads.findIndex((c) => c.code === Status.RESOURCE_EXHAUSTED);
  return firstRefused === -1 || reads.slice(firstRefused + 1).some((c) => c.code === Status.OK);
}

/** Another tool in the project spends the minute's reads. */
async function spendReadQuota(emulator: Emulator): Promise<void> {
  const client = new LoggingServiceV2Client(clientOptions(emulator.address), loggingGax);
  try {
    for (;;) {
      const refused = await client
        .listLogEntries({resourceNames: [`projects/${PROJECT}`]}, {autoPaginate: false})
        .then(() => false, (err: {code: number}) => err.code === Status.RESOURCE_EXHAUSTED);
      if (refused) return;
    }
  } finally {
    await client.close();
  }
}

describe("logs within Cloud Logging's quotas", () => {
  it('refuses reads and tails beyond the quotas with RESOURCE_EXHAUSTED, reads with the real message', async () => {
    const emulator = await emulatorWith({logQuotas: {readsPerMinute: 2, tailSessions: 1}});
    const client = new LoggingServiceV2Client(clientOptions(emulator.address), loggingGax);
    const request = {resourceNames: [`projects/${PROJECT}`], filter: 'resource.type="cloud_run_job"'};
    try {
      await client.listLogEntries(request, {autoPaginate: false});
      await client.listLogEntries(request, {autoPaginate: false});
      await assert.rejects(client.listLogEntries(request, {autoPaginate: false}), (err: {code: number; details: string}) => {
        assert.equal(err.code, Status.RESOURCE_EXHAUSTED);
        assert.match(
          err.details,
          /^Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'logging\.googleapis\.com' for consumer 'project_number:\d+'\.$/,
        );
        return true;
      });
      const open = client.tailLogEntries();
      open.on('error', () => undefined);
      open.write({resourceNames: request.resourceNames});
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = client.tailLogEntries();
      refused.write({resourceNames: request.resourceNames});
      const code = await new Promise((resolve) => refused.on('error', (err: {code: number}) => resolve(err.code)));
      assert.equal(code, Status.RESOURCE_EXHAUSTED);
      assert.deepEqual(emulator.tailSessions(PROJECT), {open: 1, peak: 1});
      open.end();
      open.cancel();
    } finally {
      await client.close();
    }
  });

  it('prints every line of 12 runs at once in one project, in order, once, with 10 tails at most and 60 reads a minute', async () => {
    const emulator = await emulatorWith();
    const runs = 12;
    const lines = 30;
    const dir = mkdtempSync(join(tmpdir(), 'together-'));
    const go = join(dir, 'go');
    // Every job runs until each run has shown its first line, so that all twelve follow their logs at once.
    const seen = new Set<number>();
    const job = (i: number) =>
      node(
        `console.log("run${i} line 0"); const t = setInterval(() => { if (!require("fs").existsSync(${JSON.stringify(go)})) return; clearInterval(t); let n = 1; const u = setInterval(() => { console.log("run${i} line " + n); if (++n === ${lines}) clearInterval(u); }, 50); }, 100)`,
      );
    try {
      const results = await Promise.all(
        Array.from({length: runs}, (_, i) =>
          action(emulator, {job: `together-${i}`, timeout: '120s', command: job(i)}, {
            onLine: (line) => {
              if (line !== `run${i} line 0`) return;
              seen.add(i);
              if (seen.size === runs) writeFileSync(go, '');
            },
          }),
        ),
      );
      results.forEach((result, i) => {
        assert.equal(result.code, 0, result.log.join('\n'));
        assert.deepEqual(numbered(result, `run${i}`), expected(`run${i}`, lines));
        assert.ok(recoveredFromQuotaErrors(emulator, result.outputs.execution_id), `run ${i} recovered from its quota errors`);
      });
      assert.ok(emulator.tailSessions(PROJECT).peak <= 10);
      const refusedTails = emulator.callsTo('TailLogEntries').filter((c) => c.code === Status.RESOURCE_EXHAUSTED);
      assert.ok(refusedTails.length >= runs - 10, 'the runs beyond the 10th were refused a tail');
      assert.deepEqual(results.map((r) => r.annotations.filter((a) => a.level === 'warning')), results.map(() => []));
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it('backs off when another client used up the project\'s read quota, and still prints every line of every run, once', async () => {
    const emulator = await emulatorWith();
    await spendReadQuota(emulator);
    const runs = 6;
    const lines = 20;
    const results = await Promise.all(
      Array.from({length: runs}, (_, i) => action(emulator, {job: `scarce-${i}`, command: counting(`run${i}`, lines, 100)})),
    );
    const refused = emulator.callsTo('ListLogEntries').filter((c) => c.code === Status.RESOURCE_EXHAUSTED && String(c.request.filter).includes('execution_name'));
    assert.ok(refused.length > 0, 'the runs were refused reads');
    results.forEach((result, i) => {
      assert.equal(result.code, 0, result.log.join('\n'));
      assert.deepEqual(numbered(result, `run${i}`), expected(`run${i}`, lines));
      assert.deepEqual(result.annotations, [], 'a quota error is not a failure to read the logs');
    });
  });

  it('reads pages again after the read quota was exceeded, when no tail is free, until every line is shown', async () => {
    const emulator = await emulatorWith({logQuotas: {tailSessions: 0}});
    await spendReadQuota(emulator);
    const runs = 3;
    const lines = 10;
    const results = await Promise.all(
      Array.from({length: runs}, (_, i) => action(emulator, {job: `pages-only-${i}`, command: counting(`run${i}`, lines, 100)})),
    );
    results.forEach((result, i) => {
      assert.equal(result.code, 0, result.log.join('\n'));
      assert.deepEqual(numbered(result, `run${i}`), expected(`run${i}`, lines));
      assert.ok(recoveredFromQuotaErrors(emulator, result.outputs.execution_id), `run ${i} recovered from its quota errors`);
      assert.deepEqual(result.annotations, [], 'a quota error is not a failure to read the logs');
    });
    assert.ok(emulator.callsTo('ListLogEntries').some((c) => c.code === Status.RESOURCE_EXHAUSTED && String(c.request.filter).includes('execution_name')));
  });

  it('shows the lines while the job runs when no tail session is free', async () => {
    const emulator = await emulatorWith({logQuotas: {tailSessions: 0}});
    const dir = mkdtempSync(join(tmpdir(), 'live-'));
    const go = join(dir, 'go');
    try {
      // The job goes on only once its first line was seen in the workflow log.
      const result = await action(
        emulator,
        {
          job: 'no-free-tail',
          timeout: '60s',
          command: node(
            `console.log("waiting"); setInterval(() => { if (require("fs").existsSync(${JSON.stringify(go)})) { console.log("went on"); process.exit(0); } }, 100)`,
          ),
        },
        {onLine: (line) => line === 'waiting' && writeFileSync(go, '')},
      );
      assert.equal(result.code, 0, result.log.join('\n'));
      assert.ok(existsSync(go));
      const shown = result.log.filter((l) => ['waiting', 'went on', 'INFO Container called exit(0).'].includes(l));
      assert.deepEqual(shown, ['waiting', 'went on', 'INFO Container called exit(0).']);
      assert.ok(emulator.callsTo('TailLogEntries').every((c) => c.code === Status.RESOURCE_EXHAUSTED));
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it('bounds every read below by the execution\'s creation time', async () => {
    const emulator = await emulatorWith();
    const result = await action(emulator, {job: 'bounded', command: counting('bounded', 3, 10)});
    assert.equal(result.code, 0, result.log.join('\n'));
    const reads = emulator.callsTo('ListLogEntries');
    assert.ok(reads.length > 0);
    for (const read of reads) assert.match(String(read.request.filter), /\ntimestamp>=?"\d{4}-\d\d-\d\dT[\d:.]+Z"$/);
    const [first] = reads;
    const created = emulator.executions()[0] as Execution;
    const bound = Date.parse(/timestamp>="([^"]+)"/.exec(String(first.request.filter))![1]);
    assert.equal(bound, Number(created.createTime?.seconds) * 1000 + Math.floor((created.createTime?.nanos ?? 0) / 1e6));
  });
});

describe('entries that come late', () => {
  for (const tail of [true, false]) {
    it(`prints once each entry that arrives after later ones, ${tail ? 'from the tail' : 'reading pages'}`, async () => {
      const emulator = await emulatorWith({logLateEntries: {every: 4, delayMs: 1500}, ...(tail ? {} : {logQuotas: {tailSessions: 0}})});
      // Longer than a poll between page reads, so that reads print entries after which late ones arrive.
      const result = await action(emulator, {job: 'late', command: counting('late', 40, 175)});
      assert.equal(result.code, 0, result.log.join('\n'));
      const printed = numbered(result, 'late');
      assert.deepEqual([...printed].sort(), expected('late', 40).sort(), 'each line once');
      assert.notDeepEqual(printed, expected('late', 40), 'some came after later ones');
    });
  }

  it("keeps the job's last lines when entries take seconds to become readable", async () => {
    const emulator = await emulatorWith({logIngestionDelayMs: 1500});
    const result = await action(emulator, {job: 'slow-ingestion', command: node('console.log("first"); setTimeout(() => { console.log("last words"); process.exit(3); }, 200)')});
    assert.equal(result.code, 1);
    for (const line of ['first', 'last words', '\x1b[33mWARNING\x1b[0m Container called exit(3).']) assert.ok(result.log.includes(line), `${line}:\n${result.log.join('\n')}`);
  });
});

describe('the end of the logs', () => {
  const excluded = {logExclusions: ['logName:"run.googleapis.com%2Fvarlog%2Fsystem"'], logIngestionDelayMs: 500};
  // The drain used to wait 10 s for every task's last platform line: well under that is prompt.
  const PROMPT_MS = 8000;

  for (const [what, inputs] of [
    ['an exit', {command: node('console.log("working"); setTimeout(() => { console.log("done"); process.exit(0); }, 300)')}],
    ['a task timeout', {timeout: '2s', command: node('console.log("working"); setTimeout(() => console.log("done"), 300); setInterval(() => {}, 1000)')}],
    ['a kill by signal 9, as out of memory', {command: node('console.log("working"); setTimeout(() => { console.log("done"); setTimeout(() => process.kill(process.pid, "SIGKILL"), 50); }, 300)')}],
  ] as const) {
    it(`ends promptly after ${what} when varlog/system is excluded, with the job's last lines`, async () => {
      const emulator = await emulatorWith(excluded);
      const result = await action(emulator, {job: 'excluded', ...inputs});
      for (const line of ['working', 'done']) assert.ok(result.log.includes(line), `${line}:\n${result.log.join('\n')}`);
      assert.ok(!result.log.some((l) => l.startsWith('Container ')), 'no platform line is readable');
      assert.ok(result.exitedAt - completionMs(emulator, result.outputs.execution) < PROMPT_MS);
    });
  }

  it("keeps the last attempt's lines of a task the platform retried, however soon after the first they come", async () => {
    const emulator = await emulatorWith();
    const retried = node('if (process.env.CLOUD_RUN_TASK_ATTEMPT === "0") { console.log("first try"); process.exit(1); } console.log("second try");');
    for (let run = 0; run < 3; run++) {
      const result = await action(emulator, {job: `retried-${run}`, max_retries: '1', command: retried});
      assert.equal(result.code, 0, result.log.join('\n'));
      for (const line of ['first try', 'second try']) assert.ok(result.log.includes(line), `${line}:\n${result.log.join('\n')}`);
    }
  });

  it('ends as soon as the platform says the container ended after a task timeout', async () => {
    const emulator = await emulatorWith();
    const result = await action(emulator, {job: 'timed-out', timeout: '2s', command: node('console.log("working"); setInterval(() => {}, 1000)')});
    assert.equal(result.outputs.status, 'timed_out', result.log.join('\n'));
    assert.ok(result.log.includes('working'));
    assert.ok(result.log.includes('\x1b[33mWARNING\x1b[0m Container terminated on signal 15.'), result.log.join('\n'));
    assert.ok(result.exitedAt - completionMs(emulator, result.outputs.execution) < PROMPT_MS);
  });
});

describe('what the live tail leaves out', () => {
  it('says once that the tail dropped entries, and why', async () => {
    const emulator = await emulatorWith({logQuotas: {tailEntriesPerMinute: 50}});
    const result = await action(emulator, {job: 'rate-limited', command: node('setTimeout(() => { for (let i = 0; i < 400; i++) console.log("burst line " + i); }, 500); setTimeout(() => {}, 2500)')});
    assert.equal(result.code, 0, result.log.join('\n'));
    const warnings = result.annotations.filter((a) => a.level === 'warning');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0].message, /left \d+ of the job's log entries out of the live tail \(over the live tail's rate limit\)/);
    assert.match(warnings[0].message, /The full log: https:\/\/console\.cloud\.google\.com\/logs\//);
  });
});

describe('the containers ended, as the logs tell', () => {
  const silentIo = (): Io => ({
    info: () => undefined,
    untrusted: () => true,
    marks: severityMarks(false),
    drained: async () => undefined,
    warning: () => undefined,
    fail: () => undefined,
    debug: () => undefined,
    mask: () => undefined,
    output: () => undefined,
    summary: async () => undefined,
    remember: () => undefined,
  });

  const follow = async (emulator: Emulator, job: string, template: object) => {
    const jobName = `projects/${PROJECT}/locations/us-central1/jobs/${job}`;
    emulator.putJob({name: jobName, template});
    const name = emulator.startExecution(jobName);
    const execution = emulator.executions(jobName)[0] as Execution;
    const id = name.split('/').pop();
    const follower = new LogFollower(
      clientOptions(emulator.address),
      {
        project: PROJECT,
        filter: `resource.type="cloud_run_job"\nlabels."run.googleapis.com/execution_name"="${id}"`,
        bufferWindowMs: 50,
        pollMs: 5000,
        settleMs: 3000,
        tailLines: 50,
        logsUrl: 'https://console.cloud.google.com/logs/',
      },
      silentIo(),
    );
    follower.start(execution);
    return {follower, jobName};
  };

  it('resolves containersEnded once every task exited, and after the last allowed attempt of a failing one', async () => {
    const emulator = await emulatorWith();
    const script = 'const a = Number(process.env.CLOUD_RUN_TASK_ATTEMPT); setTimeout(() => process.exit(process.env.CLOUD_RUN_TASK_INDEX === "1" && a === 0 ? 1 : 0), 200)';
    const {follower, jobName} = await follow(emulator, 'two-tasks-ended', {
      taskCount: 2,
      parallelism: 2,
      template: {maxRetries: 1, containers: [{image: IMAGE, command: ['node', '-e', script]}]},
    });
    try {
      await follower.containersEnded;
      const ends = follower.lastLines().filter((l) => l.includes('Container called exit'));
      assert.deepEqual(ends.sort(), ['[task 0] INFO Container called exit(0).', '[task 1, attempt 2] INFO Container called exit(0).', '[task 1] WARNING Container called exit(1).'].sort());
      assert.equal((emulator.executions(jobName)[0] as Execution).succeededCount, 2);
    } finally {
      await follower.close();
    }
  });

  it('leaves containersEnded pending while a failed attempt will be retried', async () => {
    const emulator = await emulatorWith();
    const script = 'process.exit(Number(process.env.CLOUD_RUN_TASK_ATTEMPT) === 0 ? 1 : 0)';
    const {follower} = await follow(emulator, 'retried-ended', {template: {maxRetries: 1, containers: [{image: IMAGE, command: ['node', '-e', `setTimeout(() => { ${script} }, Number(process.env.CLOUD_RUN_TASK_ATTEMPT) === 0 ? 100 : 1500)`]}]}});
    try {
      let ended = false;
      void follower.containersEnded.then(() => (ended = true));
      const firstExit = async () => {
        while (!follower.lastLines().includes('WARNING Container called exit(1).')) await new Promise((r) => setTimeout(r, 50));
      };
      await firstExit();
      assert.equal(ended, false, 'not ended after the first attempt');
      await follower.containersEnded;
      assert.ok(follower.lastLines().includes('INFO Container called exit(0).'));
    } finally {
      await follower.close();
    }
  });
});
