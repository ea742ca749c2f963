import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {plainIo} from '../src/plain-io.ts';

function terminal(debug = false, colour = false) {
  const printed = {stdout: '', stderr: ''};
  const streams = {
    stdout: (text: string) => Boolean((printed.stdout += text)),
    stderr: (text: string) => void (printed.stderr += text),
    drained: async () => undefined,
    colour,
  };
  const io = plainIo(streams, {debug});
  return {io, printed};
}

describe('plainIo', () => {
  it('prints lines on stdout, and warnings and the failure on stderr with a prefix', () => {
    const {io, printed} = terminal();
    io.info('Creating job migrate...');
    io.warning('Cloud Logging could not be read.');
    io.fail('Execution migrate-x7k2p of job migrate exited with code 3.');
    assert.equal(printed.stdout, 'Creating job migrate...\n');
    assert.equal(printed.stderr, 'warning: Cloud Logging could not be read.\nerror: Execution migrate-x7k2p of job migrate exited with code 3.\n');
    assert.equal(io.failed, true);
  });

  it('prints the job lines as they are, workflow commands included, since no runner reads them', () => {
    const {io, printed} = terminal();
    io.untrusted(['::set-output name=status::succeeded', 'Applied 001_init.sql']);
    assert.equal(printed.stdout, '::set-output name=status::succeeded\nApplied 001_init.sql\n');
  });

  it('marks errors and warnings by name, coloured only when stdout shows colour, and leaves DEFAULT unmarked', () => {
    const plain = terminal(false, false).io.marks;
    assert.deepEqual([plain.ERROR, plain.WARNING, plain.NOTICE, plain.DEFAULT], ['ERROR ', 'WARNING ', 'NOTICE ', undefined]);
    assert.equal(plain[500], 'ERROR ', 'an enum decoded as its number');
    const coloured = terminal(false, true).io.marks;
    assert.deepEqual(
      [coloured.ERROR, coloured.CRITICAL, coloured.WARNING, coloured.NOTICE, coloured[400]],
      ['\x1b[31mERROR\x1b[0m ', '\x1b[31mCRITICAL\x1b[0m ', '\x1b[33mWARNING\x1b[0m ', 'NOTICE ', '\x1b[33mWARNING\x1b[0m '],
    );
  });

  it('hides a masked value, each line of it, wherever it is printed later', () => {
    const {io, printed} = terminal();
    io.info('before: hunter2-hunter2');
    io.mask('hunter2-hunter2');
    io.mask('line-one\nline-two');
    io.untrusted(['password=hunter2-hunter2', 'got line-two']);
    io.fail('refused hunter2-hunter2');
    assert.equal(printed.stdout, 'before: hunter2-hunter2\npassword=***\ngot ***\n');
    assert.equal(printed.stderr, 'error: refused ***\n');
    assert.equal(io.hide('status=hunter2-hunter2'), 'status=***');
  });

  it('hides a longer secret whole even when a shorter one is part of it', () => {
    const {io, printed} = terminal();
    io.mask('s3cr3t');
    io.mask('postgres://app:s3cr3t@db/app');
    io.info('url postgres://app:s3cr3t@db/app');
    assert.equal(printed.stdout, 'url ***\n');
  });

  it('keeps the outputs for the end, in the order they were set', () => {
    const {io, printed} = terminal();
    io.output('execution_id', 'migrate-x7k2p');
    io.output('exit_code', 0);
    assert.deepEqual([...io.outputs], [['execution_id', 'migrate-x7k2p'], ['exit_code', '0']]);
    assert.equal(printed.stdout, '');
    assert.equal(io.failed, false);
  });

  it('prints debug lines only when asked to', () => {
    const quiet = terminal();
    quiet.io.debug('Retrying in 500 ms');
    assert.equal(quiet.printed.stderr, '');
    const verbose = terminal(true);
    verbose.io.debug('Retrying in 500 ms');
    assert.equal(verbose.printed.stderr, 'debug: Retrying in 500 ms\n');
  });
});
