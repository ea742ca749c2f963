import {parse as parseYaml} from 'yaml';

/**
 * Checks of the project's workflows that a generic linter cannot make, since it sees one file
 * at a time: that this action and the reusable workflow are called with inputs they have, that
 * every action is pinned, one way everywhere, and that no deploy can run after a failed
 * migration. Each problem is one line naming the file, the job and the step.
 */

export interface WorkflowFile {
  /** Relative to the repository's root, e.g. `.github/workflows/ci.yml`. */
  path: string;
  text: string;
}

export interface Project {
  /** action.yml's inputs. */
  inputs: Record<string, {required?: boolean; default?: string}>;
  /** The action's published name, `owner/repo`. */
  published: string;
}

/** A parsed YAML mapping. */
type Yaml = Record<string, any>;

const DEPLOY = 'google-github-actions/deploy-cloudrun';
const CHECKOUT = 'actions/checkout';
/** A major tag (`v3`) or a full commit SHA. */
const PINNED = /^[\w.-]+\/[\w.-]+(?:\/[^@\s]+)?@(?:v\d+|[0-9a-f]{40})$/;
const EXPRESSION = /\$\{\{(.*?)\}\}/gs;

/** Every string in a value, to look for references in; the keys and comments are left out. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** The references `name.a.b` in a value: in `${{ }}` anywhere, and in the bare expression of an `if`. */
function references(value: unknown, pattern: RegExp, ifCondition?: unknown): RegExpExecArray[] {
  const expressions = strings(value).flatMap((text) => [...text.matchAll(EXPRESSION)].map((m) => m[1]));
  if (typeof ifCondition === 'string') expressions.push(ifCondition);
  return expressions.flatMap((text) => [...text.matchAll(pattern)]);
}

const actionOf = (uses: string) => uses.slice(0, uses.lastIndexOf('@'));

/** A condition with a status function other than success() lets a job or step run after a failure. */
const runsAfterFailure = (condition: unknown) => typeof condition === 'string' && /\b(?:always|failure|cancelled)\s*\(/.test(condition);

function workflowCall(workflow: Yaml | undefined): {inputs: Yaml; outputs: Yaml; secrets: Yaml} | undefined {
  const on = workflow?.on;
  if (!on || typeof on !== 'object' || !('workflow_call' in on)) return undefined;
  const call = on.workflow_call ?? {};
  return {inputs: call.inputs ?? {}, outputs: call.outputs ?? {}, secrets: call.secrets ?? {}};
}

export function checkWorkflows(files: WorkflowFile[], project: Project): string[] {
  const problems: string[] = [];
  const parsed = new Map<string, Yaml>();
  for (const file of files) {
    try {
      parsed.set(file.path, parseYaml(file.text) as Yaml);
    } catch (err) {
      problems.push(`${file.path}: does not parse: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const isOurAction = (uses: string) => uses === './' || uses.startsWith(`${project.published}@`);
  /** A checkout of this repository: by name, or as the reusable workflow's own (job.workflow_repository). */
  const checksOutThisAction = (repository: unknown) =>
    repository === project.published || (typeof repository === 'string' && /^\$\{\{\s*job\.workflow_repository\s*\}\}$/.test(repository));
  /** The reusable workflow a job calls, when it is one of this repository's. */
  const calledWorkflow = (uses: string) => {
    const local = /^(?:\.\/|[\w.-]+\/[\w.-]+\/)(\.github\/workflows\/[^@]+)/.exec(uses);
    if (!local || !(uses.startsWith('./') || uses.startsWith(`${project.published}/`))) return undefined;
    return {path: local[1], workflow: parsed.get(local[1])};
  };
  const refs = new Map<string, Map<string, string>>();
  const pin = (where: string, uses: string) => {
    if (uses.startsWith('./')) return;
    if (!PINNED.test(uses)) return void problems.push(`${where}: "${uses}" is not pinned to a major tag (@v1) or a commit SHA`);
    const seen = refs.get(actionOf(uses)) ?? new Map();
    if (!seen.has(uses)) seen.set(uses, where);
    refs.set(actionOf(uses), seen);
  };

  for (const [path, workflow] of parsed) {
    if (!workflow || typeof workflow !== 'object' || !workflow.jobs) {
      problems.push(`${path}: has no jobs`);
      continue;
    }
    const call = workflowCall(workflow);
    const declaredInputs = {...call?.inputs, ...workflow.on?.workflow_dispatch?.inputs};
    for (const [, name] of references(workflow, /\binputs\.([\w-]+)/g)) {
      if (!(name in declaredInputs)) problems.push(`${path}: inputs.${name} is not an input of this workflow`);
    }
    for (const [output, spec] of Object.entries<Yaml>(call?.outputs ?? {})) {
      for (const [, job, name] of references(spec.value, /\bjobs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        if (!workflow.jobs[job]?.outputs?.[name]) problems.push(`${path}: output ${output} reads jobs.${job}.outputs.${name}, which no job sets`);
      }
    }

    for (const [jobId, job] of Object.entries<Yaml>(workflow.jobs)) {
      const at = `${path}: job ${jobId}`;
      const needs: string[] = [job.needs ?? []].flat();
      for (const [, needed, output] of references(job, /\bneeds\.([\w-]+)\.outputs\.([\w-]+)/g, job.if)) {
        const other = workflow.jobs[needed];
        if (!other || !needs.includes(needed)) {
          problems.push(`${at}: reads needs.${needed}, which it does not need`);
          continue;
        }
        // A workflow called from elsewhere has outputs this check cannot see.
        const outputs = other.uses ? workflowCall(calledWorkflow(other.uses)?.workflow)?.outputs : (other.outputs ?? {});
        if (outputs && !(output in outputs)) problems.push(`${at}: reads needs.${needed}.outputs.${output}, which job ${needed} does not have`);
      }

      if (job.uses) {
        pin(at, job.uses);
        const called = calledWorkflow(job.uses);
        if (called && !called.workflow) problems.push(`${at}: calls ${called.path}, which is not in this repository`);
        const spec = called?.workflow && workflowCall(called.workflow);
        if (called?.workflow && !spec) problems.push(`${at}: calls ${called.path}, which is not a reusable workflow`);
        if (spec) checkWith(problems, at, job.with, spec.inputs, (input) => input.required && input.default === undefined);
        continue;
      }
      if (!job['runs-on']) problems.push(`${at}: has neither runs-on nor uses`);

      const ids: string[] = [];
      /** Where a step of this job checked out this action, for a later `uses: ./path`. */
      const checkouts = new Set<string>();
      // Whether a migration ran before this point, and whether its failure stops what follows.
      let migration: 'none' | 'gating' | 'not gating' = 'none';
      if (needs.some((n) => callsMigration(workflow.jobs[n]))) migration = runsAfterFailure(job.if) ? 'not gating' : 'gating';
      for (const [index, step] of (job.steps ?? []).entries()) {
        const where = `${at}, step ${step.name ? `"${step.name}"` : index + 1}`;
        for (const [, id] of references(step, /\bsteps\.([\w-]+)\./g, step.if)) {
          if (!ids.includes(id)) problems.push(`${where}: reads steps.${id}, which is no earlier step's id`);
        }
        if (step.id) ids.push(step.id);
        if (!step.uses) continue;
        pin(where, step.uses);
        if (actionOf(step.uses) === CHECKOUT && checksOutThisAction(step.with?.repository)) checkouts.add(`./${step.with.path ?? ''}`.replace(/\/$/, ''));
        if (isOurAction(step.uses) || checkouts.has(step.uses.replace(/\/$/, ''))) {
          checkWith(problems, where, step.with, project.inputs, (input) => Boolean(input.required));
          if (migration === 'none') migration = step['continue-on-error'] ? 'not gating' : 'gating';
        }
        if (actionOf(step.uses) === DEPLOY) {
          if (migration === 'none') problems.push(`${where}: deploys without migrating first`);
          else if (migration === 'not gating' || runsAfterFailure(step.if)) problems.push(`${where}: may deploy after a failed migration`);
        }
      }
    }
  }

  for (const [action, seen] of refs) {
    if (seen.size > 1) problems.push(`${action} is pinned ${seen.size} ways: ${[...seen].map(([uses, where]) => `${uses} (${where})`).join(', ')}`);
  }
  return problems;

  function callsMigration(job: Yaml | undefined): boolean {
    if (!job) return false;
    if (job.uses) return Boolean(calledWorkflow(job.uses));
    return (job.steps ?? []).some((step: Yaml) => step.uses && isOurAction(step.uses) && !step['continue-on-error']);
  }
}

/** The `with:` of a call names only inputs the callee has, and every input it requires. */
function checkWith(
  problems: string[],
  where: string,
  given: Yaml | undefined,
  inputs: Record<string, Yaml>,
  required: (input: Yaml) => boolean,
): void {
  for (const name of Object.keys(given ?? {})) {
    if (!(name in inputs)) problems.push(`${where}: "${name}" is not one of its inputs`);
  }
  for (const [name, input] of Object.entries(inputs)) {
    if (required(input ?? {}) && !(name in (given ?? {}))) problems.push(`${where}: the required input "${name}" is missing`);
  }
}
