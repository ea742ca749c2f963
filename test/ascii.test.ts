import assert from 'node:assert/strict';
import {runInNewContext} from 'node:vm';
import {describe, it} from 'node:test';
import {asciiOnly} from '../scripts/ascii.ts';

/** What a script evaluates to, run on its own. */
const result = (code: string): unknown => runInNewContext(code);

describe('writing a bundle in ASCII', () => {
  it('escapes comments, strings, untagged templates and regular expressions without changing what the code does', () => {
    const code = [
      '// it’s a comment',
      '/* ± also one */',
      'const quote = "don’t";',
      'const star = "🌟"; // beyond the BMP: two code units',
      'const line = `${quote} … ${star.length}`;',
      'JSON.stringify([quote, line, /[’…]/.test(line), /^🌟$/u.test(star), /^[🌟]$/u.test(star), star.length]);',
    ].join('\n');
    const ascii = asciiOnly(code, 'bundle.js');
    assert.match(ascii, /^[\0-\x7f]*$/);
    assert.equal(result(ascii), result(code));
    assert.equal(result(ascii), JSON.stringify(['don’t', 'don’t … 2', true, true, true, 2]));
  });

  it('leaves ASCII code as it is', () => {
    const code = 'const a = "plain"; // plain\n';
    assert.equal(asciiOnly(code, 'bundle.js'), code);
  });

  for (const [where, code] of [
    ['the raw text of a tagged template', 'String.raw`don’t`;'],
    ['an identifier', 'const café = 1;'],
    ['whitespace', 'const a\u00a0= 1;'],
    ['a line separator ending a line comment', '// note\u2028globalThis.ran = true;'],
    ['a character after a backslash', 'const a = "\\’";'],
  ]) {
    it(`stops the build at a character in ${where}, where an escape could change the program`, () => {
      assert.throws(() => asciiOnly(code!, 'bundle.js'), /^Error: bundle\.js:1:\d+: cannot escape U\+[0-9A-F]{4} here without changing the program$/);
    });
  }
});
