// What a reader of the Marketplace listing, the README and the docs is shown: the job summary as
// the action writes it, the listing's name and branding, the starter workflow, and command lines
// for other CIs that the command line accepts.
import assert from 'node:assert/strict';
import {access, readFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {describe, it} from 'node:test';
import {parse as parseShell} from 'shell-quote';
import {parse as parseYaml} from 'yaml';
import {parseCommandLine} from '../src/cli-args.ts';
import {ROOT} from '../scripts/local-runner.ts';
import {renderSummaryDoc, SUMMARY_DOC, summarySamples} from '../scripts/summary-sample.ts';

const read = (path: string) => readFile(join(ROOT, path), 'utf8');
const readme = await read('README.md');
const action = parseYaml(await read('action.yml'));
const section = (text: string, heading: string) => {
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `no section "${heading}"`);
  const end = text.indexOf('\n## ', start + heading.length + 2);
  return text.slice(start, end === -1 ? undefined : end);
};

describe('the job summary samples', () => {
  it('are what the action writes, for a migration that succeeded and one that failed (run "npm run docs")', {timeout: 60_000}, async () => {
    const doc = await readFile(SUMMARY_DOC, 'utf8');
    const samples = await summarySamples();
    assert.match(samples.succeeded, /^\| Status \| ✅ succeeded \|$/m);
    assert.match(samples.failed, /^\| Status \| ❌ failed \|$/m);
    assert.match(samples.failed, /^\| Exit code \| 1 \|$/m);
    assert.equal(doc, renderSummaryDoc(doc, samples), 'docs/job-summary.md is not what the action writes: run "npm run docs"');
  });

  it('are linked from the README', () => {
    assert.match(readme, /\]\(docs\/job-summary\.md\)/);
  });
});

describe('the Marketplace listing', () => {
  it("is described in the README with action.yml's name and branding", () => {
    const text = section(readme, '## GitHub Marketplace');
    assert.ok(text.includes(`**${action.name}**`), action.name);
    assert.ok(text.includes(`\`${action.branding.icon}\` icon on \`${action.branding.color}\``), JSON.stringify(action.branding));
  });

  it('has what the Marketplace requires of action.yml: a name, a description and a branding colour it knows', () => {
    assert.ok(action.name && action.description && action.branding.icon);
    assert.ok(['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark'].includes(action.branding.color));
  });
});

describe('the starter workflow', async () => {
  const properties = JSON.parse(await read('workflow-templates/cloud-run-migrate.properties.json'));
  const workflow = parseYaml(await read('workflow-templates/cloud-run-migrate.yml'));

  it('has the properties GitHub shows it with', () => {
    assert.ok(properties.name && properties.description);
    assert.ok(Array.isArray(properties.categories) && properties.categories.length > 0);
    for (const pattern of properties.filePatterns) assert.doesNotThrow(() => new RegExp(pattern));
    assert.ok(new RegExp(properties.filePatterns[0]).test('Dockerfile'));
  });

  it('calls the reusable workflow by its published name, on the default branch, and deploys after it', () => {
    assert.deepEqual(workflow.on.push.branches, ['$default-branch']);
    assert.equal(workflow.jobs.migrate.uses, 'cloud-run-migrate/cloud-run-migrate/.github/workflows/migrate.yml@v1');
    assert.deepEqual([workflow.jobs.deploy.needs].flat(), ['migrate']);
  });
});

describe('the command lines for other CIs', () => {
  /** The flags after `cloud-run-migrate@1` in a command, as the command line reads them. */
  const flagsOf = (words: string[]) => {
    const at = words.indexOf('cloud-run-migrate@1');
    assert.equal(words[0], 'npx', words.join(' '));
    assert.ok(at > 0, words.join(' '));
    return words.slice(at + 1);
  };
  const shellWords = (command: string) =>
    parseShell(command.replace(/\\\n/g, ' '), (name) => `\${${name}}`).map((word) => (typeof word === 'string' ? word : ''));
  const accepts = (words: string[]) => {
    const parsed = parseCommandLine(flagsOf(words));
    assert.equal(parsed.kind, 'run');
    if (parsed.kind === 'run') assert.equal(parsed.inputs.job, 'migrate');
    return parsed;
  };

  it('in GitLab CI run the npm package, with flags it accepts and a dotenv report of its outputs', async () => {
    const pipeline = parseYaml(await read('examples/gitlab/.gitlab-ci.yml'));
    const command = pipeline.migrate.script.find((line: string) => line.includes('cloud-run-migrate@1'));
    const parsed = accepts(shellWords(command));
    assert.equal(parsed.kind === 'run' && parsed.outputFile, pipeline.migrate.artifacts.reports.dotenv);
    assert.deepEqual(pipeline.deploy.needs, ['build', 'migrate']);
  });

  it('in Cloud Build run the npm package, with flags it accepts, before the deploy step', async () => {
    const build = parseYaml(await read('examples/cloud-build/cloudbuild.yaml'));
    const ids = build.steps.map((step: {id: string}) => step.id);
    const migrate = build.steps[ids.indexOf('migrate')];
    assert.equal(migrate.entrypoint, 'npx');
    accepts(['npx', ...migrate.args]);
    assert.ok(ids.indexOf('migrate') < ids.indexOf('deploy'));
  });

  it("in the README's command-line section run the npm package, with flags it accepts", () => {
    const text = section(readme, '## Command line');
    const sh = [...text.matchAll(/^```sh\n(.*?)^```$/gms)].map((m) => m[1]);
    const gitlab = parseYaml([...text.matchAll(/^```yaml\n(.*?)^```$/gms)][0][1]);
    assert.equal(sh.length, 1);
    accepts(shellWords(sh[0]));
    accepts(shellWords(gitlab.migrate.script.at(-1)));
    assert.ok(!text.includes('git clone'), 'no clone is needed');
  });

  it('start the emulator from the npm package', () => {
    const text = section(readme, '## Local emulator');
    assert.match(text, /^npx --yes --package cloud-run-migrate@1 cloud-run-migrate-emulator --port 8085 --config emulator\.json$/m);
  });
});

describe('the release and docs pages', () => {
  for (const page of ['docs/job-summary.md', 'docs/releasing.md']) {
    it(`${page} links only to files that exist`, async () => {
      const targets = [...(await read(page)).matchAll(/\]\(((?!https?:|#)[^)#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]);
      assert.ok(targets.length > 0);
      for (const target of targets) await access(join(ROOT, dirname(page), target));
    });
  }
});
