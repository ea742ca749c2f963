import {execFile} from 'node:child_process';
import {readFileSync, readdirSync, statSync} from 'node:fs';
import {cpus, totalmem} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {v2 as run} from '@google-cloud/run';
import {grpc} from 'google-gax';
import {startEmulator, type WaitOperationBehaviour} from '../emulator/index.ts';
import {ROOT, runAction} from '../scripts/local-runner.ts';

/**
 * npm run bench: what the action costs on the deploy's critical path, measured against the
 * emulator on this machine, each figure the median of several runs of dist/ as shipped, beside
 * the same figure for the baseline a user would otherwise write (bench/baseline.ts).
 *
 * BENCH_RUNS (default 5) runs per job length; BENCH_JOB_SECONDS (default 4,40) the lengths;
 * BENCH_LOG_MB (default 100) the size of the log-heavy job, 0 to skip it. Twelve runs of the
 * longest job also run at once in one project, to count what they ask of Cloud Logging's quotas.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const JOB_SECONDS = (process.env.BENCH_JOB_SECONDS ?? '4,40').split(',').map(Number);
const LOG_MB = Number(process.env.BENCH_LOG_MB ?? 100);
const PROJECT = 'bench-project';
const WAIT_CALLS = ['GetExecution', 'WaitOperation', 'GetOperation'];
const LOG_CALLS = ['ListLogEntries', 'TailLogEntries'];

const median = (values: number[]) => percentile(values, 0.5);
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}
const ms = (t?: {seconds?: unknown; nanos?: number | null} | null) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Peak RSS of a process, from its VmHWM high-water mark, read until it exits. */
function watchPeakRss(pid: number): () => number {
  let peak = 0;
  const read = () => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb) peak = Math.max(peak, Number(kb) * 1024);
    } catch {
      // The process has exited: the last reading stands.
    }
  };
  const timer = setInterval(read, 10);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

const dirSize = (dir: string) =>
  readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);

/** An emulator, and a client to read the executions it ran. */
async function startTarget(waitOperation?: WaitOperationBehaviour) {
  const emulator = await startEmulator({workdir: ROOT, waitOperation});
  const executions = new run.ExecutionsClient({
    apiEndpoint: '127.0.0.1',
    port: emulator.port,
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
  const stop = async () => {
    await executions.close();
    await emulator.stop();
  };
  return {emulator, executions, stop};
}
type Target = Awaited<ReturnType<typeof startTarget>>;

const main = await startTarget();

interface Sample {
  lagMs: number;
  overheadMs: number;
  coldStartMs: number;
  readsPerMinute: number;
  /** Over the whole wait, first read to last, the first not counted: the steady pace, whatever the job's length. */
  readsPerMinuteOfWait: number;
  logCallsPerMinute: number;
  peakRss: number;
  /** The action's wall time, start to exit. */
  wallMs: number;
  logLatencies: number[];
  /** For a job numbering its lines: where the workflow log did not show them all in order, once. */
  numberedLinesWrong?: string;
}

/** A job that prints a timestamped tick every 250 ms for its whole length, so log latency can be read. */
const tickingJob = (seconds: number) =>
  JSON.stringify([
    'node',
    '-e',
    `const end = Date.now() + ${seconds * 1000}; const tick = () => { console.log("tick " + Date.now()); if (Date.now() < end) setTimeout(tick, 250); }; tick();`,
  ]);

interface SampleOptions {
  /** How many lines the job numbers: 99 characters each, ending in the line's number. */
  numberedLines?: number;
  /** The workflow log's reader stops for 500 ms every second, as a busy runner might. */
  slowReader?: boolean;
  /** The job's memory limit, when Cloud Run's default (512Mi) is too small for it. */
  memory?: string;
}

async function actionSample(
  {emulator, executions}: Target,
  job: string,
  command: string,
  {numberedLines = 0, slowReader, memory}: SampleOptions = {},
): Promise<Sample> {
  const before = emulator.calls.length;
  const latencies: number[] = [];
  let nextLine = 0;
  let numberedLinesWrong: string | undefined;
  let stopWatch = () => 0;
  let stopReader: NodeJS.Timeout | undefined;
  const result = await runAction({
    inputs: {job, project_id: PROJECT, image: 'bench:1', command, ...(memory && {memory})},
    env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
    onSpawn: (child) => {
      stopWatch = watchPeakRss(child.pid as number);
      if (slowReader) {
        stopReader = setInterval(() => {
          child.stdout?.pause();
          setTimeout(() => child.stdout?.resume(), 500);
        }, 1000);
      }
    },
    onLine: (line) => {
      const written = /^tick (\d+)$/.exec(line)?.[1];
      if (written) latencies.push(Date.now() - Number(written));
      const numbered = /^x+(\d+)$/.exec(line)?.[1];
      if (numbered !== undefined && Number(numbered) !== nextLine++) numberedLinesWrong ??= `line ${numbered} where ${nextLine - 1} was due`;
    },
  });
  clearInterval(stopReader);
  const peakRss = stopWatch();
  if (result.code !== 0) throw new Error(`run failed:\n${result.log.slice(-20).join('\n')}\n${result.stderr}`);
  const [execution] = await executions.getExecution({name: result.outputs.execution});
  const runMs = ms(execution.completionTime) - ms(execution.createTime);
  const calls = emulator.calls.slice(before);
  const during = calls.filter((c) => c.at >= ms(execution.createTime) && c.at <= ms(execution.completionTime));
  const perMinute = (names: string[]) => during.filter((c) => names.includes(c.short)).length / (runMs / 60_000);
  // The action's reads: the benchmark's own read of the execution comes after it exited.
  const reads = calls.filter((c) => WAIT_CALLS.includes(c.short) && c.at <= result.exitedAt);
  return {
    lagMs: result.exitedAt - ms(execution.completionTime),
    overheadMs: result.exitedAt - result.startedAt - runMs,
    coldStartMs: (calls[0]?.at ?? NaN) - result.startedAt,
    readsPerMinute: perMinute(WAIT_CALLS),
    readsPerMinuteOfWait: (reads.length - 1) / (((reads.at(-1)?.at ?? NaN) - (reads[0]?.at ?? NaN)) / 60_000),
    logCallsPerMinute: perMinute(LOG_CALLS),
    peakRss,
    wallMs: result.exitedAt - result.startedAt,
    logLatencies: latencies,
    numberedLinesWrong: numberedLinesWrong ?? (nextLine === numberedLines ? undefined : `${nextLine} of ${numberedLines} lines`),
  };
}

async function baselineSample(job: string): Promise<{lagMs: number; overheadMs: number; readsPerMinute: number}> {
  const before = main.emulator.calls.length;
  const startedAt = Date.now();
  const {stdout} = await promisify(execFile)(process.execPath, [join(ROOT, 'bench/baseline.ts'), main.emulator.address, `projects/${PROJECT}/locations/us-central1/jobs/${job}`]);
  const exitedAt = Date.now();
  const [execution] = await main.executions.getExecution({name: stdout.trim()});
  const runMs = ms(execution.completionTime) - ms(execution.createTime);
  const polls = main.emulator.calls.slice(before).filter((c) => WAIT_CALLS.includes(c.short) && c.at <= ms(execution.completionTime));
  return {lagMs: exitedAt - ms(execution.completionTime), overheadMs: exitedAt - startedAt - runMs, readsPerMinute: polls.length / (runMs / 60_000)};
}

const seconds = (value: number) => `${(value / 1000).toFixed(3)} s`;
const rows: string[][] = [];
const latencies: number[] = [];
for (const length of JOB_SECONDS) {
  const action: Sample[] = [];
  const baseline: Awaited<ReturnType<typeof baselineSample>>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const job = `bench-${length}s-${i}`;
    action.push(await actionSample(main, job, tickingJob(length)));
    baseline.push(await baselineSample(job));
  }
  latencies.push(...action.flatMap((s) => s.logLatencies));
  const a = (key: keyof Omit<Sample, 'logLatencies' | 'numberedLinesWrong'>) => median(action.map((s) => s[key]));
  const b = (key: keyof (typeof baseline)[number]) => median(baseline.map((s) => s[key]));
  rows.push(
    [`detection lag, ${length} s job`, seconds(a('lagMs')), seconds(b('lagMs')), 'under 0.3 s'],
    [`overhead (wall time - run time), ${length} s job`, seconds(a('overheadMs')), seconds(b('overheadMs')), `baseline/action ${(b('overheadMs') / a('overheadMs')).toFixed(1)}×`],
    [`Cloud Run reads per minute of waiting, ${length} s job`, a('readsPerMinute').toFixed(1), b('readsPerMinute').toFixed(1), 'at most 20'],
    [`Logging calls per minute of waiting, ${length} s job`, a('logCallsPerMinute').toFixed(1), '-', 'a small part of 60'],
    [`cold start to first RPC, ${length} s runs`, `${a('coldStartMs').toFixed(0)} ms`, '-', 'under 200 ms'],
    [`peak memory, ${length} s job`, `${(a('peakRss') / 1e6).toFixed(0)} MB`, '-', 'under 150 MB'],
  );
}
{
  // WaitOperation is best effort: a server may answer it at once, and the wait must not spin then.
  const longest = Math.max(...JOB_SECONDS);
  const target = await startTarget('immediate');
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < RUNS; i++) samples.push(await actionSample(target, `bench-immediate-${i}`, tickingJob(longest)));
  } finally {
    await target.stop();
  }
  const perMinute = median(samples.map((s) => s.readsPerMinuteOfWait));
  rows.push([`Cloud Run reads per minute of waiting, WaitOperation answering at once, ${longest} s job`, perMinute.toFixed(1), '-', 'at most 20']);
}
{
  // Twelve runs at once in one project share its Logging quotas: 60 reads a minute, 10 tails.
  const together = 12;
  const length = Math.max(...JOB_SECONDS);
  const target = await startTarget();
  try {
    const results = await Promise.all(
      Array.from({length: together}, (_, i) =>
        runAction({
          inputs: {job: `bench-together-${i}`, project_id: PROJECT, image: 'bench:1', command: tickingJob(length)},
          env: {CLOUD_RUN_EMULATOR_HOST: target.emulator.address},
        }),
      ),
    );
    const failed = results.find((r) => r.code !== 0);
    if (failed) throw new Error(`run failed:\n${failed.log.slice(-20).join('\n')}\n${failed.stderr}`);
    const reads = target.emulator.callsTo('ListLogEntries');
    const busiest = Math.max(...reads.map((c) => reads.filter((d) => d.at >= c.at && d.at < c.at + 60_000).length));
    const refused = reads.filter((c) => c.code === 8).length;
    rows.push(
      [`ListLogEntries calls in the busiest minute, ${together} runs of a ${length} s job in one project (refused)`, `${busiest} (${refused})`, '-', 'at most 60'],
      [`tails open at once, ${together} runs in one project`, String(target.emulator.tailSessions(PROJECT).peak), '-', 'at most 10'],
    );
  } finally {
    await target.stop();
  }
}
rows.push(
  ['log latency, written to printed: median', `${median(latencies).toFixed(0)} ms`, '-', ''],
  ['log latency, written to printed: 95th percentile', `${percentile(latencies, 0.95).toFixed(0)} ms`, '-', ''],
);
if (LOG_MB > 0) {
  const lines = LOG_MB * 10_000;
  const chatty = JSON.stringify(['node', '-e', `for (let i = 0; i < ${lines}; i++) process.stdout.write(String(i).padStart(99, "x") + "\\n");`]);
  const chattySamples = async (slowReader: boolean) => {
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      // An emulator of its own, whose million stored entries go when it stops.
      const target = await startTarget();
      try {
        // Its writes wait in its own memory while the emulator stores them: more than the default limit.
        samples.push(await actionSample(target, `bench-chatty-${i}`, chatty, {numberedLines: lines, slowReader, memory: '4Gi'}));
      } finally {
        await target.stop();
      }
    }
    const wrong = samples.find((s) => s.numberedLinesWrong)?.numberedLinesWrong;
    if (wrong) throw new Error(`the workflow log did not show the job's lines in order, each once: ${wrong}`);
    const peaks = samples.map((s) => s.peakRss / 1e6);
    return {peak: `${median(peaks).toFixed(0)} / ${Math.max(...peaks).toFixed(0)} MB`, wallMs: median(samples.map((s) => s.wallMs))};
  };
  const [fast, slow] = [await chattySamples(false), await chattySamples(true)];
  rows.push(
    [`peak memory, job printing ${LOG_MB} MB of logs: median / highest`, fast.peak, '-', 'under 150 MB'],
    [`peak memory, the same job, with a log reader that stops half the time: median / highest`, slow.peak, '-', 'under 150 MB'],
    [`lines printed per second, job printing ${LOG_MB} MB of logs`, `${(lines / (fast.wallMs / 1000)).toFixed(0)}`, '-', ''],
  );
}
rows.push(['size of dist/', `${(dirSize(join(ROOT, 'dist')) / 1e6).toFixed(1)} MB`, '-', '']);

await main.stop();

const header = ['figure', 'action', 'baseline', 'target'];
console.log(`cloud-run-migrate benchmark: median of ${RUNS} runs per job length, Node ${process.version},`);
console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB\n`);
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i].length)));
for (const row of [header, widths.map((w) => '-'.repeat(w)), ...rows]) {
  console.log(`| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`);
}
