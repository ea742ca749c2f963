// Releases are cut and published on GitHub (.github/workflows/release.yml); what its steps run is
// scripts/release.ts, tested here on copies of the real CHANGELOG.md, package.json and lock.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {copyFile, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {promisify} from 'node:util';
import {parse as parseYaml} from 'yaml';
import {ROOT} from '../scripts/local-runner.ts';
import {bump, checkRelease, cutChangelog, releaseNotes, releaseOf, repositoryUrl, treeDifferences} from '../scripts/release.ts';
import pkg from '../package.json' with {type: 'json'};

const CHANGELOG = await readFile(join(ROOT, 'CHANGELOG.md'), 'utf8');
const REPOSITORY = repositoryUrl(pkg);
const unreleasedBody = (text: string) => text.slice(text.indexOf('## [Unreleased]') + '## [Unreleased]'.length, text.search(/^(## \[(?!Unreleased)|\[Unreleased\]: )/m)).trim();

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'release-'));
});
after(() => rm(dir, {recursive: true, force: true}));

/** A copy of the files a release changes, in a folder of its own. */
async function checkout(name: string): Promise<string> {
  const root = join(dir, name);
  await mkdir(root);
  for (const file of ['CHANGELOG.md', 'package.json', 'package-lock.json']) await copyFile(join(ROOT, file), join(root, file));
  return root;
}

describe('a release version', () => {
  it('gives the release tag, never moved, and the major tag that follows it', () => {
    assert.deepEqual(releaseOf('v1.2.3'), {version: '1.2.3', tag: 'v1.2.3', major: 'v1'});
    assert.deepEqual(releaseOf('1.2.3'), {version: '1.2.3', tag: 'v1.2.3', major: 'v1'});
    assert.deepEqual(releaseOf('v10.0.12'), {version: '10.0.12', tag: 'v10.0.12', major: 'v10'});
    assert.deepEqual(releaseOf('0.4.0'), {version: '0.4.0', tag: 'v0.4.0', major: 'v0'});
  });

  for (const bad of ['1.2', 'v1', '1.2.3-rc.1', '1.2.3+build', '01.2.3', 'refs/tags/v1.2.3', 'latest', 'V1.2.3', '']) {
    it(`refuses "${bad}", saying what is expected`, () => {
      assert.throws(() => releaseOf(bad), {message: `"${bad}" is not a release version: expected MAJOR.MINOR.PATCH, such as 1.2.3 or v1.2.3`});
    });
  }
});

describe('the CHANGELOG', () => {
  const date = '2027-01-15';

  it('is in the form the release reads: an Unreleased section with notes, and its link reference', () => {
    assert.match(CHANGELOG, /^## \[Unreleased\]$/m);
    assert.match(CHANGELOG, /^\[Unreleased\]: https:\/\/github\.com\/cloud-run-migrate\/cloud-run-migrate\//m);
    assert.ok(unreleasedBody(CHANGELOG).length > 0);
  });

  it('moves the Unreleased notes under the new version, dated, and links it', () => {
    const cut = cutChangelog(CHANGELOG, '1.0.0', date, REPOSITORY);
    assert.match(cut, /^## \[Unreleased\]\n\n## \[1\.0\.0\] - 2027-01-15\n/m);
    assert.equal(releaseNotes(cut, '1.0.0').trim(), unreleasedBody(CHANGELOG));
    assert.equal(unreleasedBody(cut), '');
    assert.match(cut, /^\[Unreleased\]: https:\/\/github\.com\/cloud-run-migrate\/cloud-run-migrate\/compare\/v1\.0\.0\.\.\.HEAD\n\[1\.0\.0\]: https:\/\/github\.com\/cloud-run-migrate\/cloud-run-migrate\/releases\/tag\/v1\.0\.0\n$/m);
    assert.equal(cut.match(/^\[Unreleased\]: /gm)?.length, 1);
  });

  it('links a later release to a comparison with the one before, and keeps the earlier notes', () => {
    const first = cutChangelog(CHANGELOG, '1.0.0', date, REPOSITORY);
    const next = first.replace('## [Unreleased]\n', '## [Unreleased]\n\n### Fixed\n\n- A fix.\n');
    const second = cutChangelog(next, '1.1.0', '2027-02-01', REPOSITORY);
    assert.equal(releaseNotes(second, '1.1.0'), '### Fixed\n\n- A fix.\n');
    assert.equal(releaseNotes(second, '1.0.0'), releaseNotes(first, '1.0.0'));
    assert.match(second, /^\[Unreleased\]: \S+\/compare\/v1\.1\.0\.\.\.HEAD\n\[1\.1\.0\]: \S+\/compare\/v1\.0\.0\.\.\.v1\.1\.0\n\[1\.0\.0\]: \S+\/releases\/tag\/v1\.0\.0\n$/m);
  });

  it('refuses what would make a wrong release', () => {
    const first = cutChangelog(CHANGELOG, '1.0.0', date, REPOSITORY);
    assert.throws(() => cutChangelog(first, '1.0.1', date, REPOSITORY), /Unreleased section is empty: nothing to release/);
    const more = first.replace('## [Unreleased]\n', '## [Unreleased]\n\n- More.\n');
    assert.throws(() => cutChangelog(more, '1.0.0', date, REPOSITORY), /already has a section for 1\.0\.0/);
    assert.throws(() => cutChangelog(more.replace('1.0.0]', '2.0.0]'), '1.5.0', date, REPOSITORY), /1\.5\.0 does not come after the last release, 2\.0\.0/);
    assert.throws(() => cutChangelog(CHANGELOG.replace('## [Unreleased]', '## Unreleased'), '1.0.0', date, REPOSITORY), /no "## \[Unreleased\]" section/);
  });

  it('has no notes to give for a version not cut, or cut without a date', () => {
    assert.throws(() => releaseNotes(CHANGELOG, '1.0.0'), /no section "## \[1\.0\.0\]": run "npm run release -- 1\.0\.0" first/);
    const undated = cutChangelog(CHANGELOG, '1.0.0', date, REPOSITORY).replace(' - 2027-01-15', '');
    assert.throws(() => releaseNotes(undated, '1.0.0'), /has no date: expected "## \[1\.0\.0\] - YYYY-MM-DD"/);
  });
});

describe('cutting a release (npm run release -- X.Y.Z)', () => {
  it('dates the CHANGELOG and sets the version in package.json and package-lock.json, which the release check then accepts', async () => {
    const root = await checkout('bump');
    assert.deepEqual(await bump('v1.0.0', {root, date: '2027-01-15'}), {version: '1.0.0', tag: 'v1.0.0', major: 'v1'});
    const json = async (file: string) => JSON.parse(await readFile(join(root, file), 'utf8'));
    assert.equal((await json('package.json')).version, '1.0.0');
    assert.deepEqual({...(await json('package.json')), version: pkg.version}, pkg, 'nothing else in package.json changed');
    const lock = await json('package-lock.json');
    assert.equal(lock.version, '1.0.0');
    assert.equal(lock.packages[''].version, '1.0.0');
    assert.match(await readFile(join(root, 'CHANGELOG.md'), 'utf8'), /^## \[1\.0\.0\] - 2027-01-15$/m);

    const release = await checkRelease('v1.0.0', root);
    assert.equal(release.major, 'v1');
    assert.equal(release.notes.trim(), unreleasedBody(CHANGELOG));
  });

  it('may cut the version package.json already has, once: the first release', async () => {
    const root = await checkout('first');
    await bump(pkg.version, {root, date: '2027-01-15'});
    assert.equal(JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version, pkg.version);
    await assert.rejects(bump(pkg.version, {root}), /already has a section/);
  });

  it('refuses a version before the package\'s, and changes nothing', async () => {
    const root = await checkout('older');
    await writeFile(join(root, 'package.json'), JSON.stringify({...pkg, version: '2.0.0'}, null, 2));
    await assert.rejects(bump('1.9.9', {root}), /1\.9\.9 comes before package\.json's version, 2\.0\.0/);
    assert.equal(await readFile(join(root, 'CHANGELOG.md'), 'utf8'), CHANGELOG);
  });

  it('is checked before publishing: a version that is not the package\'s is refused', async () => {
    const root = await checkout('unbumped');
    await assert.rejects(checkRelease('v9.9.9', root), /package\.json says \S+, not 9\.9\.9: run "npm run release -- 9\.9\.9" and commit it/);
  });

  it('as the workflow runs it: the check fails with one error line naming the problem', async () => {
    const run = promisify(execFile)(process.execPath, ['scripts/release.ts', 'check', 'v9.9.9', join(dir, 'notes.md')], {cwd: ROOT});
    const failed = await run.then(() => undefined, (err) => err);
    assert.equal(failed?.code, 1);
    assert.match(failed.stderr, /^error: package\.json says \S+, not 9\.9\.9/);
  });
});

describe('the dist/ check', () => {
  it('names each file that is changed, missing or extra', async () => {
    const [built, committed] = [join(dir, 'built'), join(dir, 'committed')];
    for (const [tree, files] of [
      [built, {'index.js': 'a', 'cli/index.js': 'b', 'emulator/index.js': 'c'}],
      [committed, {'index.js': 'a', 'cli/index.js': 'B', 'old.js': 'd'}],
    ] as const) {
      for (const [file, text] of Object.entries(files)) {
        await mkdir(join(tree, file, '..'), {recursive: true});
        await writeFile(join(tree, file), text);
      }
    }
    assert.deepEqual(await treeDifferences(built, built), []);
    assert.deepEqual(await treeDifferences(built, committed), ['cli/index.js differs from the build', 'emulator/index.js is missing', 'old.js is not in the build']);
  });
});

describe('the release workflow', async () => {
  const workflow = parseYaml(await readFile(join(ROOT, '.github/workflows/release.yml'), 'utf8'));
  const steps: Array<{name?: string; run?: string; uses?: string; env?: Record<string, string>}> = workflow.jobs.release.steps;
  const index = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step.run ?? ''));

  it('runs on a pushed vX.Y.Z tag, or by hand with a version', () => {
    assert.deepEqual(workflow.on.push.tags, ['v[0-9]+.[0-9]+.[0-9]+']);
    assert.equal(workflow.on.workflow_dispatch.inputs.version.required, true);
    assert.equal(steps[index(/release\.ts check "/)].env?.VERSION, '${{ inputs.version || github.ref_name }}');
  });

  it('may push tags and sign the npm provenance, in this job only', () => {
    assert.deepEqual(workflow.permissions, {contents: 'read'});
    assert.deepEqual(workflow.jobs.release.permissions, {contents: 'write', 'id-token': 'write'});
  });

  it('checks, tests, then publishes: npm with provenance, the release with its notes, then the major tag', () => {
    const order = [
      index(/^npm ci$/),
      index(/release\.ts check "\$VERSION" "\$RUNNER_TEMP\/notes\.md"/),
      index(/release\.ts check-dist/),
      index(/^npm test$/),
      index(/git push origin "refs\/tags\/\$TAG"/),
      index(/npm publish --provenance --access public/),
      index(/gh release create "\$TAG" --verify-tag --title "\$TAG" --notes-file "\$RUNNER_TEMP\/notes\.md"/),
      index(/git push --force origin "\$TAG\^\{commit\}:refs\/tags\/\$MAJOR"/),
    ];
    assert.ok(order.every((i) => i >= 0), String(order));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
  });
});
