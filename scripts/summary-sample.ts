import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startEmulator} from '../emulator/index.ts';
import {ROOT, runAction} from './local-runner.ts';

/**
 * The job summary samples of docs/job-summary.md, written by running dist/ against the emulator
 * on the sample migration, once as it succeeds and once as it fails (`npm run docs` rewrites
 * them; a test fails when they drift). What varies from run to run is replaced by fixed values:
 * the execution's id and its duration.
 */
export const SUMMARY_DOC = join(ROOT, 'docs/job-summary.md');

export const SAMPLE_EXECUTION_ID = 'migrate-x7k2p';
const SAMPLE_DURATION = '38.2';

export type SampleName = 'succeeded' | 'failed';

export async function summarySamples(): Promise<Record<SampleName, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'summary-sample-'));
  const emulator = await startEmulator({workdir: join(ROOT, 'sample')});
  try {
    const run = async (migrations: string) => {
      const result = await runAction({
        inputs: {
          job: 'migrate',
          project_id: 'my-project',
          region: 'europe-west1',
          image: 'europe-west1-docker.pkg.dev/my-project/app/web:1.4.2',
          // This Node, whichever `node` comes first on the PATH: the sample needs node:sqlite.
          command: JSON.stringify([process.execPath, 'migrate.mjs']),
          args: 'up',
          env_vars: `DATABASE_PATH=${join(dir, `${migrations}.db`)}\nMIGRATIONS_DIR=${migrations}`,
        },
        env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
      });
      const {execution_id: id, duration} = result.outputs;
      if (!id || !duration) throw new Error(`the sample run set no execution_id or duration:\n${result.log.join('\n')}`);
      return result.summary
        .replaceAll(id, SAMPLE_EXECUTION_ID)
        .replace(`| Duration | ${duration} s |`, `| Duration | ${SAMPLE_DURATION} s |`)
        .trim();
    };
    return {succeeded: await run('migrations'), failed: await run('migrations-broken')};
  } finally {
    await emulator.stop();
    await rm(dir, {recursive: true, force: true});
  }
}

/** The page with each sample between its markers, `<!-- summary:NAME -->` and `<!-- /summary:NAME -->`. */
export function renderSummaryDoc(doc: string, samples: Record<SampleName, string>): string {
  let text = doc;
  for (const [name, sample] of Object.entries(samples)) {
    const pattern = new RegExp(`(<!-- summary:${name} -->\\n).*?(<!-- /summary:${name} -->)`, 's');
    if (!pattern.test(text)) throw new Error(`${SUMMARY_DOC} has no markers <!-- summary:${name} --> ... <!-- /summary:${name} -->`);
    text = text.replace(pattern, (_, start, end) => `${start}\n${sample}\n\n${end}`);
  }
  return text;
}

if (import.meta.main) {
  await writeFile(SUMMARY_DOC, renderSummaryDoc(await readFile(SUMMARY_DOC, 'utf8'), await summarySamples()));
}
