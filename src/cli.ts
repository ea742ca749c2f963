#!/usr/bin/env node
import './cjs-globals.ts';
import './stream-buffers.ts';
import {writeFile} from 'node:fs/promises';
import {helpText, parseCommandLine, UsageError, type CommandLine} from './cli-args.ts';
import {run} from './main.ts';
import {drained} from './drain.ts';
import {plainIo, type Streams} from './plain-io.ts';
import {version} from './version.ts';

/**
 * The command line: the action's run, outside GitHub Actions (GitLab CI, Cloud Build, a
 * terminal). Exit status 0 on success, 1 on failure, 2 for bad usage.
 */
const PROGRAM = 'cloud-run-migrate';

const streams: Streams = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  drained: () => drained(process.stdout),
};

function readCommandLine(): CommandLine | undefined {
  try {
    return parseCommandLine(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    streams.stderr(`error: ${err.message}\nRun "${PROGRAM} --help" to see the flags.\n`);
    process.exitCode = 2;
    return undefined;
  }
}

async function migrate({inputs, outputFile, debug}: Extract<CommandLine, {kind: 'run'}>): Promise<void> {
  const io = plainIo(streams, {debug});
  // Ctrl-C, or a CI system cancelling the job, stops the execution too (see cancel_on_abort).
  const cancelled = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => cancelled.abort(signal));
  await run({getInput: (name) => inputs[name] ?? '', env: process.env, io, version, signal: cancelled.signal});
  const lines = [...io.outputs].map(([name, value]) => `${name}=${value}\n`);
  if (outputFile === undefined) {
    for (const line of lines) streams.stdout(io.hide(line));
  } else {
    await writeFile(outputFile, lines.join('')).catch((err: Error) => io.fail(`Could not write --output-file: ${err.message}`));
  }
  process.exitCode = io.failed ? 1 : 0;
}

const command = readCommandLine();
if (command?.kind === 'help') streams.stdout(`${helpText(PROGRAM)}\n`);
else if (command?.kind === 'version') streams.stdout(`${version}\n`);
else if (command) await migrate(command);
