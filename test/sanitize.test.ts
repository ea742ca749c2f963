import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {cleanLine, fenced, MAX_LINE_CHARS} from '../src/sanitize.ts';

describe('cleanLine', () => {
  const cases: Array<[string, string, string]> = [
    ['plain text', 'Applied 001_init.sql', 'Applied 001_init.sql'],
    ['colour codes', '\x1b[31mred\x1b[0m text', 'red text'],
    ['a title-setting OSC sequence', '\x1b]0;pwned\x07after', 'after'],
    ['a carriage return that would overwrite the line', 'ok\rFAKE', 'ok\\x0dFAKE'],
    ['a bell and a backspace', 'a\x07b\x08c', 'a\\x07b\\x08c'],
    ['a tab', 'a\tb', 'a\tb'],
    ['a C1 control', 'a\x9bb', 'a\\x9bb'],
  ];
  for (const [name, input, expected] of cases) {
    it(`neutralises ${name}`, () => assert.equal(cleanLine(input), expected));
  }
  it('cuts a very long line with a marker saying how much', () => {
    const line = cleanLine('x'.repeat(MAX_LINE_CHARS + 500));
    assert.ok(line.startsWith('x'.repeat(MAX_LINE_CHARS)));
    assert.ok(line.endsWith(' … [500 more characters cut]'));
  });
});

describe('fenced', () => {
  it('stops commands with a fresh unguessable token and resumes them after the lines', () => {
    const first = fenced(['::error::fake']).split('\n');
    const second = fenced(['x']).split('\n');
    const token = /^::stop-commands::([0-9a-f]{32})$/.exec(first[0])?.[1];
    assert.ok(token);
    assert.deepEqual(first.slice(1), ['::error::fake', `::${token}::`]);
    assert.notEqual(second[0], first[0]);
  });
});
