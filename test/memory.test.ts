import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {describe, it} from 'node:test';
import {DEFAULT_MEMORY_LIMIT, mebibytes, parseMemory, treeResidentBytes} from '../emulator/memory.ts';

describe('the emulator\'s memory limit', () => {
  it('reads Kubernetes quantities as Cloud Run does, binary and decimal', () => {
    assert.equal(parseMemory('512Mi'), 512 * 2 ** 20);
    assert.equal(parseMemory('1Gi'), 2 ** 30);
    assert.equal(parseMemory('1.5Gi'), 1.5 * 2 ** 30);
    assert.equal(parseMemory('2G'), 2e9);
    assert.equal(parseMemory('500M'), 5e8);
    assert.equal(parseMemory('1048576'), 2 ** 20);
    assert.equal(mebibytes(DEFAULT_MEMORY_LIMIT), 512);
  });

  it('refuses what is not a quantity', () => {
    for (const bad of ['', 'Mi', '512 MB', '-1Gi', '1gi', '512mi']) assert.equal(parseMemory(bad), undefined, bad);
  });

  it('counts the resident memory of a process and its children', async () => {
    const child = spawn(process.execPath, ['-e', 'require("child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 5000)"]); setTimeout(() => {}, 5000)'], {
      stdio: 'ignore',
      detached: true,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const parent = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      assert.ok(treeResidentBytes(child.pid as number) > Number(parent?.[1]) * 1024, 'more than the parent alone');
    } finally {
      process.kill(-(child.pid as number), 'SIGKILL');
    }
  });
});
