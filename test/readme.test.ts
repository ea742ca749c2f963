import assert from 'node:assert/strict';
import {access, readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {ROOT} from '../scripts/local-runner.ts';
import {readAction, README, renderReadme} from '../scripts/readme.ts';

const readme = await readFile(README, 'utf8');
const action = await readAction();

/**
 * The text of src/, with string concatenations joined and each ${…} as …, so a message
 * built from several literals can be found as it is printed.
 */
async function sourceText(): Promise<string> {
  const files = (await readdir(join(ROOT, 'src'))).filter((name) => name.endsWith('.ts'));
  const texts = await Promise.all(files.map((name) => readFile(join(ROOT, 'src', name), 'utf8')));
  return texts
    .join('\n')
    .replace(/['"`]\s*\+\s*['"`]/g, '')
    .replace(/\$\{[^{}]*\}/g, '…')
    .replace(/\\(['"])/g, '$1');
}

describe('README', () => {
  it('has the inputs and outputs tables of action.yml (run "npm run docs" after changing it)', () => {
    assert.equal(readme, renderReadme(readme, action));
  });

  it('would show an input added to action.yml, and refuses one without a description', () => {
    const added = {...action, inputs: {...action.inputs, dry_run: {description: 'Plan only | do not run.', default: 'false'}}};
    assert.match(renderReadme(readme, added), /^\| `dry_run` \| {2}\| `false` \| Plan only \\\| do not run\. \|$/m);
    const bare = {...action, inputs: {...action.inputs, dry_run: {required: false}}};
    assert.throws(() => renderReadme(readme, bare), /the input "dry_run" has no description/);
  });

  it('quotes in Troubleshooting only messages the action prints', async () => {
    const section = readme.slice(readme.indexOf('## Troubleshooting'), readme.indexOf('\n## ', readme.indexOf('## Troubleshooting') + 1));
    const messages = [...section.matchAll(/^```text\n(.*?)\n```$/gms)].map((m) => m[1]);
    assert.ok(messages.length >= 10, `${messages.length} messages quoted`);
    const source = await sourceText();
    for (const message of messages) {
      // The fixed parts, sentence by sentence: the action builds a message from several.
      for (const part of message.split(/…|(?<=\.) /).map((p) => p.trim()).filter(Boolean)) {
        assert.ok(source.includes(part), `"${part}" (in "${message}") is not in src/`);
      }
    }
  });

  it('links only to files that exist', async () => {
    const targets = [...readme.matchAll(/\]\(((?!https?:|#)[^)]+)\)/g)].map((m) => m[1]);
    assert.ok(targets.includes('docs/emulator.md'));
    for (const target of targets) await access(join(ROOT, target));
  });
});
