// Standalone Cloud Run emulator: node emulator/main.ts [--port N] [--host H] [--workdir DIR]
import {parseArgs} from 'node:util';
import {statusName} from './errors.ts';
import {startEmulator} from './index.ts';

const USAGE = `Usage: node emulator/main.ts [--port N] [--host H] [--workdir DIR]

Serves the Cloud Run Admin API v2 (Jobs, Executions, Tasks), google.longrunning.Operations
and Cloud Logging v2 over gRPC; jobs run their container's command as local processes.

  --port N        port to listen on (default 0: a free port)
  --host H        address to bind (default 127.0.0.1)
  --workdir DIR   working directory of task processes (default: the current directory)
  --help          show this help`;

const {values} = parseArgs({
  options: {
    port: {type: 'string'},
    host: {type: 'string'},
    workdir: {type: 'string'},
    help: {type: 'boolean'},
  },
});

if (values.help) {
  console.log(USAGE);
} else {
  const port = Number(values.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`Invalid --port '${values.port}'.\n\n${USAGE}`);
    process.exit(2);
  }
  const emulator = await startEmulator({
    host: values.host,
    port,
    workdir: values.workdir,
    onCall: call => console.error(`${new Date(call.at).toISOString()} ${call.method} ${statusName(call.code)}`),
  });
  console.log(`Cloud Run emulator listening on ${emulator.address}`);
  console.log(`export CLOUD_RUN_EMULATOR_HOST=${emulator.address}`);
  const shutdown = async () => {
    await emulator.stop();
    console.error('Cloud Run emulator stopped');
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
