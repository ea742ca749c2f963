#!/usr/bin/env node
import './cjs-globals.ts';
import './stream-buffers.ts';
import {accessSync, constants, statSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import {dirname, resolve} from 'node:path';
import {helpText, parseCommandLine, UsageError, type CommandLine} from './cli-args.ts';
import {clientOptions} from './clients.ts';
import {run} from './main.ts';
import {drained} from './drain.ts';
import {readInputs} from './inputs.ts';
import {InputError} from './parse.ts';
import {plainIo, type PlainIo, type Streams} from './plain-io.ts';
import {version} from './version.ts';

/**
 * The command line: the action's run, outside GitHub Actions (GitLab CI, Cloud Build, a
 * terminal). Exit status 0 on success, 1 when the migration failed or could not run, 2 for
 * bad usage or a bad value, found before anything runs: a CI system's retry then runs nothing.
 */
const PROGRAM = 'cloud-run-migrate';

const streams: Streams = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  drained: () => drained(process.stdout),
  // A terminal shows colours; NO_COLOR (no-color.org), set to anything, says not to use them.
  colour: process.stdout.isTTY === true && !process.env.NO_COLOR,
};

function readCommandLine(): CommandLine | undefined {
  try {
    const command = parseCommandLine(process.argv.slice(2));
    if (command.kind === 'run') check(command);
    return command;
  } catch (err) {
    if (err instanceof UsageError) streams.stderr(`error: ${err.message}\nRun "${PROGRAM} --help" to see the flags.\n`);
    else if (err instanceof InputError) streams.stderr(`error: ${err.message}\n`);
    else throw err;
    process.exitCode = 2;
    return undefined;
  }
}

/** check refuses, before anything runs, the values the run would refuse, and an output file it could not write. */
function check({inputs, outputFile}: Extract<CommandLine, {kind: 'run'}>): void {
  readInputs((name) => inputs[name] ?? '', process.env);
  clientOptions(process.env.CLOUD_RUN_EMULATOR_HOST);
  if (outputFile !== undefined) checkWritable(outputFile);
}

function checkWritable(file: string): void {
  const folder = dirname(resolve(file));
  const problem = (what: string) => new UsageError(`--output-file ${file} cannot be written: ${what}`);
  if (!statSync(folder, {throwIfNoEntry: false})?.isDirectory()) throw problem(`the folder ${folder} does not exist`);
  const existing = statSync(file, {throwIfNoEntry: false});
  if (existing?.isDirectory()) throw problem('it is a folder');
  try {
    accessSync(existing ? file : folder, constants.W_OK);
  } catch {
    throw problem(existing ? 'it is not writable' : `the folder ${folder} is not writable`);
  }
}

/**
 * Without credentials, gcp-metadata probes the metadata server and, when the probe fails in a
 * way it does not expect (a proxy answering 403, say), warns with process.emitWarning. The
 * probe failing only means "not on Google Cloud", and the error line that follows already says
 * no credentials were found; the warning is shown with --debug only.
 */
function quietMetadataProbe(io: PlainIo): void {
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as {type?: string} | undefined)?.type;
    if (type === 'MetadataLookupWarning') io.debug(`${type}: ${String(warning)}`);
    else (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

async function migrate({inputs, outputFile, debug}: Extract<CommandLine, {kind: 'run'}>): Promise<void> {
  const io = plainIo(streams, {debug});
  quietMetadataProbe(io);
  // Ctrl-C, or a CI system cancelling the job, stops the execution too (see cancel_on_abort).
  const cancelled = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => cancelled.abort(signal));
  const getInput = (name: string) => inputs[name] ?? '';
  await run({getInput, env: process.env, io, version, signal: cancelled.signal, stoppedBy: 'Interrupted'});
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
