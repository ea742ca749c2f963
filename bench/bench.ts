import {readFileSync, statSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {cpus} from 'node:os';
import {v2 as run} from '@google-cloud/run';
import {grpc} from 'google-gax';
import {startEmulator} from '../emulator/index.ts';
import {ROOT, runAction} from '../scripts/local-runner.ts';

/**
 * npm run bench: what the action costs on the deploy's critical path, measured against the
 * emulator on this machine. Each figure is the median of several runs of dist/ as shipped.
 *   detection lag   the execution's completion_time to the action's exit
 *   overhead        the action's wall time minus the execution's own run time
 *   cold start      process start to the first RPC
 *   calls / minute  Cloud Run reads while the execution runs
 *   peak memory     the action process's peak resident set
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const JOB_SECONDS = (process.env.BENCH_JOB_SECONDS ?? '4').split(',').map(Number);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (t?: {seconds?: unknown; nanos?: number | null} | null) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Peak RSS of a process, read from its VmHWM high-water mark until it exits. */
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
  const timer = setInterval(read, 20);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

function dirSize(dir: string): number {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
}

const emulator = await startEmulator({workdir: ROOT});
const executions = new run.ExecutionsClient({
  apiEndpoint: '127.0.0.1',
  port: emulator.port,
  sslCreds: grpc.credentials.createInsecure(),
  universeDomain: 'googleapis.com',
});

interface Sample {
  lagMs: number;
  overheadMs: number;
  coldStartMs: number;
  readsPerMinute: number;
  peakRss: number;
}

async function sample(jobSeconds: number, index: number): Promise<Sample> {
  const job = `bench-${jobSeconds}s-${index}`;
  const before = emulator.calls.length;
  let stopWatch = () => 0;
  const result = await runAction({
    inputs: {
      job,
      project_id: 'bench-project',
      image: 'bench:1',
      command: JSON.stringify(['node', '-e', `console.log("working"); setTimeout(() => console.log("done"), ${jobSeconds * 1000})`]),
    },
    env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
    onSpawn: (child) => (stopWatch = watchPeakRss(child.pid as number)),
  });
  const peakRss = stopWatch();
  if (result.code !== 0) throw new Error(`run failed:\n${result.log.join('\n')}\n${result.stderr}`);
  const [execution] = await executions.getExecution({name: result.outputs.execution});
  const runMs = ms(execution.completionTime) - ms(execution.createTime);
  const calls = emulator.calls.slice(before);
  const waitingCalls = calls.filter((c) => ['GetExecution', 'WaitOperation', 'GetOperation'].includes(c.short));
  return {
    lagMs: result.exitedAt - ms(execution.completionTime),
    overheadMs: result.exitedAt - result.startedAt - runMs,
    coldStartMs: (calls[0]?.at ?? NaN) - result.startedAt,
    readsPerMinute: waitingCalls.length / (runMs / 60_000),
    peakRss,
  };
}

const rows: string[][] = [];
for (const seconds of JOB_SECONDS) {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await sample(seconds, i));
  const m = (key: keyof Sample) => median(samples.map((s) => s[key]));
  rows.push(
    [`detection lag, ${seconds}s job`, `${(m('lagMs') / 1000).toFixed(3)} s`, 'under 0.3 s'],
    [`overhead, ${seconds}s job`, `${(m('overheadMs') / 1000).toFixed(3)} s`, ''],
    [`cold start to first RPC`, `${m('coldStartMs').toFixed(0)} ms`, 'under 200 ms'],
    [`Cloud Run reads per minute of waiting, ${seconds}s job`, m('readsPerMinute').toFixed(1), 'at most 20'],
    [`peak memory, ${seconds}s job`, `${(m('peakRss') / 2 ** 20).toFixed(1)} MiB`, 'under 150 MB'],
  );
}
rows.push(['size of dist/', `${(dirSize(join(ROOT, 'dist')) / 2 ** 20).toFixed(1)} MiB`, '']);

await executions.close();
await emulator.stop();

console.log(`cloud-run-migrate benchmark: median of ${RUNS} runs, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`);
const widths = [0, 1, 2].map((i) => Math.max(...[['figure', 'value', 'target'], ...rows].map((r) => r[i].length)));
for (const row of [['figure', 'value', 'target'], widths.map((w) => '-'.repeat(w)), ...rows]) {
  console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
}
