import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, relative} from 'node:path';
import {build, buildAll} from './build.ts';
import {ROOT} from './local-runner.ts';

/**
 * Releases. `npm run release -- 1.2.3` cuts one: the CHANGELOG's Unreleased section becomes
 * 1.2.3's, dated today, package.json and package-lock.json take the version, and dist/ is rebuilt
 * (the version is in the bundles). Commit that and push the tag v1.2.3, or run the release
 * workflow by hand with the version; the workflow then checks the release with the commands below,
 * publishes it and moves the major tag v1:
 *
 *   node scripts/release.ts check v1.2.3 NOTES   the version is the package's and has a dated
 *                                                CHANGELOG section: prints version=, tag= and
 *                                                major= lines, and writes that section to NOTES
 *   node scripts/release.ts check-dist           dist/ is the build of this checkout
 */

export class ReleaseError extends Error {}

export interface Release {
  /** `1.2.3` */
  version: string;
  /** `v1.2.3`: never moved once pushed. */
  tag: string;
  /** `v1`: moved to each release of that major version. */
  major: string;
}

const VERSION = /^v?((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))$/;

/** The tags of a version, given as `1.2.3` or `v1.2.3`. Pre-releases and build metadata are refused. */
export function releaseOf(given: string): Release {
  const match = VERSION.exec(given.trim());
  if (!match) throw new ReleaseError(`"${given}" is not a release version: expected MAJOR.MINOR.PATCH, such as 1.2.3 or v1.2.3`);
  return {version: match[1], tag: `v${match[1]}`, major: `v${match[2]}`};
}

const parts = (version: string) => version.split('.').map(Number);

function compareVersions(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** A `## [name]` heading of Keep a Changelog, with its date when it has one. */
const HEADING = /^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?[ \t]*$/gm;
/** The link references at the end, `[name]: url`. */
const LINK = /^\[([^\]]+)\]: (\S+)[ \t]*$/gm;

interface Section {
  name: string;
  date?: string;
  /** Where its heading starts, and where its body starts and ends. */
  start: number;
  bodyStart: number;
  end: number;
}

function sections(changelog: string): Section[] {
  const headings = [...changelog.matchAll(HEADING)];
  const links = changelog.search(/^\[[^\]]+\]: /m);
  return headings.map((heading, i) => {
    const next = headings[i + 1]?.index ?? (links === -1 ? changelog.length : links);
    return {name: heading[1], date: heading[2], start: heading.index, bodyStart: heading.index + heading[0].length, end: next};
  });
}

/** The notes of a release: its section of the CHANGELOG, without the heading. */
export function releaseNotes(changelog: string, version: string): string {
  const section = sections(changelog).find((s) => s.name === version);
  if (!section) throw new ReleaseError(`CHANGELOG.md has no section "## [${version}]": run "npm run release -- ${version}" first`);
  if (!section.date) throw new ReleaseError(`CHANGELOG.md's section "## [${version}]" has no date: expected "## [${version}] - YYYY-MM-DD"`);
  const notes = changelog.slice(section.bodyStart, section.end).trim();
  if (!notes) throw new ReleaseError(`CHANGELOG.md's section "## [${version}]" is empty`);
  return `${notes}\n`;
}

/**
 * The CHANGELOG with its Unreleased section moved under the version, dated, an empty Unreleased
 * section above it, and the link references comparing each release with the one before.
 */
export function cutChangelog(changelog: string, version: string, date: string, repository: string): string {
  const all = sections(changelog);
  const unreleased = all.find((s) => s.name === 'Unreleased');
  if (!unreleased) throw new ReleaseError('CHANGELOG.md has no "## [Unreleased]" section to release');
  if (all.some((s) => s.name === version)) throw new ReleaseError(`CHANGELOG.md already has a section for ${version}`);
  if (!changelog.slice(unreleased.bodyStart, unreleased.end).trim()) throw new ReleaseError('CHANGELOG.md\'s Unreleased section is empty: nothing to release');
  const previous = all.find((s) => s.start > unreleased.start && VERSION.test(s.name))?.name;
  if (previous && compareVersions(version, previous) <= 0) throw new ReleaseError(`${version} does not come after the last release, ${previous}`);

  const text = `${changelog.slice(0, unreleased.start)}## [Unreleased]\n\n## [${version}] - ${date}${changelog.slice(unreleased.bodyStart)}`;
  const links = [...text.matchAll(LINK)];
  const unreleasedLink = links.find((link) => link[1] === 'Unreleased');
  const versionLink = `[${version}]: ${previous ? `${repository}/compare/v${previous}...v${version}` : `${repository}/releases/tag/v${version}`}`;
  const newLinks = `[Unreleased]: ${repository}/compare/v${version}...HEAD\n${versionLink}`;
  if (!unreleasedLink) return `${text.trimEnd()}\n\n${newLinks}\n`;
  return text.slice(0, unreleasedLink.index) + newLinks + text.slice(unreleasedLink.index + unreleasedLink[0].length);
}

/** `https://github.com/owner/repo`, from package.json's repository. */
export function repositoryUrl(pkg: {repository: {url: string}}): string {
  const match = /github\.com[/:]([^/]+\/[^/]+?)(?:\.git)?$/.exec(pkg.repository.url);
  if (!match) throw new ReleaseError(`package.json's repository "${pkg.repository.url}" is not a GitHub repository`);
  return `https://github.com/${match[1]}`;
}

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));
const writeJson = (path: string, value: unknown) => writeFile(path, `${JSON.stringify(value, null, 2)}\n`);

/** Cuts the release in the CHANGELOG, package.json and package-lock.json of `root`; dist/ is left to the caller. */
export async function bump(given: string, {root = ROOT, date = new Date().toISOString().slice(0, 10)} = {}): Promise<Release> {
  const release = releaseOf(given);
  const pkg = await readJson(join(root, 'package.json'));
  // The version already in package.json may be cut once: the first release is its version.
  if (compareVersions(release.version, pkg.version) < 0) throw new ReleaseError(`${release.version} comes before package.json's version, ${pkg.version}`);
  const changelog = cutChangelog(await readFile(join(root, 'CHANGELOG.md'), 'utf8'), release.version, date, repositoryUrl(pkg));
  const lock = await readJson(join(root, 'package-lock.json'));
  lock.version = release.version;
  lock.packages[''].version = release.version;
  await writeFile(join(root, 'CHANGELOG.md'), changelog);
  await writeJson(join(root, 'package.json'), {...pkg, version: release.version});
  await writeJson(join(root, 'package-lock.json'), lock);
  return release;
}

/** What a release workflow checks before it publishes: the version is the package's, and the CHANGELOG has its notes. */
export async function checkRelease(given: string, root = ROOT): Promise<Release & {notes: string}> {
  const release = releaseOf(given);
  const pkg = await readJson(join(root, 'package.json'));
  const lock = await readJson(join(root, 'package-lock.json'));
  for (const [file, version] of [['package.json', pkg.version], ['package-lock.json', lock.packages[''].version]]) {
    if (version !== release.version) throw new ReleaseError(`${file} says ${version}, not ${release.version}: run "npm run release -- ${release.version}" and commit it`);
  }
  return {...release, notes: releaseNotes(await readFile(join(root, 'CHANGELOG.md'), 'utf8'), release.version)};
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true}).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/** The files that differ between two trees: changed, missing from `actual`, or extra in it. */
export async function treeDifferences(expected: string, actual: string): Promise<string[]> {
  const [want, have] = [await files(expected), await files(actual)];
  const differences = [...want.filter((f) => !have.includes(f)).map((f) => `${f} is missing`), ...have.filter((f) => !want.includes(f)).map((f) => `${f} is not in the build`)];
  for (const file of want.filter((f) => have.includes(f))) {
    if (!(await readFile(join(expected, file))).equals(await readFile(join(actual, file)))) differences.push(`${file} differs from the build`);
  }
  return differences.sort();
}

async function main([command, ...args]: string[]): Promise<void> {
  if (command === 'check' && args.length === 2) {
    const release = await checkRelease(args[0]);
    await writeFile(args[1], release.notes);
    console.log(`version=${release.version}\ntag=${release.tag}\nmajor=${release.major}`);
  } else if (command === 'check-dist' && args.length === 0) {
    const out = await mkdtemp(join(tmpdir(), 'dist-'));
    try {
      await build(out);
      const differences = await treeDifferences(out, join(ROOT, 'dist'));
      if (differences.length) throw new ReleaseError(`dist/ is not the build of this commit: run "npm run build" and commit dist/.\n${differences.map((d) => `  dist/${d}`).join('\n')}`);
      console.log('dist/ is the build of this commit.');
    } finally {
      await rm(out, {recursive: true, force: true});
    }
  } else if (command && !command.startsWith('-') && args.length === 0) {
    const release = await bump(command);
    await buildAll();
    console.log(`Cut ${release.tag}: CHANGELOG.md, package.json, package-lock.json and dist/.`);
    console.log(`Commit them ("Release ${release.tag}"), then push the tag: git tag ${release.tag} && git push origin ${release.tag}`);
  } else {
    throw new ReleaseError('usage: npm run release -- X.Y.Z | node scripts/release.ts check vX.Y.Z NOTES_FILE | node scripts/release.ts check-dist');
  }
}

if (import.meta.main) {
  try {
    await main(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ReleaseError)) throw err;
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  }
}
