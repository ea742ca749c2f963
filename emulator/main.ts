// Standalone Cloud Run emulator: node emulator/main.ts [--config FILE] [--port N] [--host H] [--workdir DIR]
import {parseArgs} from 'node:util';
import {ConfigError, readConfig, type ConfigOptions} from './config.ts';
import {statusName} from './errors.ts';
import {startEmulator} from './index.ts';

const USAGE = `Usage: node emulator/main.ts [--config FILE] [--port N] [--host H] [--workdir DIR]

Serves the Cloud Run Admin API v2 (Jobs, Executions, Tasks), google.longrunning.Operations
and Cloud Logging v2 over gRPC; jobs run their container's command as local processes.

  --config FILE   a JSON file of secrets, images, faults and latency (see docs/emulator.md)
  --port N        port to listen on (default 0: a free port)
  --host H        address to bind (default 127.0.0.1)
  --workdir DIR   working directory of task processes (default: the config's, or the current directory)
  --help          show this help

Stops on SIGINT or SIGTERM, killing the task processes still running.`;

const usageError = (message: string): never => {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
};

let values;
try {
  ({values} = parseArgs({
    options: {
      config: {type: 'string'},
      port: {type: 'string'},
      host: {type: 'string'},
      workdir: {type: 'string'},
      help: {type: 'boolean'},
    },
  }));
} catch (err) {
  usageError((err as Error).message);
}

if (values?.help) {
  console.log(USAGE);
} else if (values) {
  const port = Number(values.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usageError(`Invalid --port '${values.port}'.`);
  let config: ConfigOptions = {};
  try {
    if (values.config !== undefined) config = await readConfig(values.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const emulator = await startEmulator({
    ...config,
    host: values.host,
    port,
    workdir: values.workdir ?? config.workdir,
    onCall: call => console.error(`${new Date(call.at).toISOString()} ${call.method} ${statusName(call.code)}`),
  }).catch((err: Error) => {
    console.error(`${values.config ?? 'The emulator'}: ${err.message}`);
    process.exit(err instanceof TypeError ? 2 : 1);
  });
  console.log(`Cloud Run emulator listening on ${emulator.address}`);
  console.log(`export CLOUD_RUN_EMULATOR_HOST=${emulator.address}`);

  let stopping = false;
  const shutdown = async () => {
    // A second signal while stopping means "now".
    if (stopping) process.exit(1);
    stopping = true;
    await emulator.stop();
    console.error('Cloud Run emulator stopped');
    // Handling the signal replaced its default, which ends the process: end it, whatever is left.
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown());

  // Under `npm run emulator` (whose script execs node: a shell in between would not pass npm's
  // signals on), npm forwards SIGINT and SIGTERM. Killed outright, it forwards nothing, and the
  // emulator would keep its task processes running: losing its parent is the signal to stop.
  if (process.env.npm_lifecycle_event !== undefined) {
    const parent = process.ppid;
    setInterval(() => process.ppid !== parent && void shutdown(), 200).unref();
  }
}
