import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startEmulator} from '../emulator/index.ts';
import {ROOT, runAction} from './local-runner.ts';

/**
 * npm start: the action's dist/, run as a workflow step would run it, against the local
 * Cloud Run emulator, on a real migration (SQL files applied to a SQLite database).
 * `npm start -- --broken` runs a migration set whose second file fails.
 */
const IMAGE = 'us-docker.pkg.dev/demo-project/shop/migrate:1.0';
const broken = process.argv.includes('--broken');

const dir = await mkdtemp(join(tmpdir(), 'cloud-run-migrate-demo-'));
const emulator = await startEmulator({
  workdir: join(ROOT, 'sample'),
  // The emulator's registry: this image's entrypoint is the sample migration tool.
  images: {[IMAGE]: {command: ['node', 'migrate.mjs']}},
});
const rule = (title: string) => console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 72 - title.length))}`);
try {
  rule(`workflow step log (emulator at ${emulator.address})`);
  const result = await runAction({
    inputs: {
      job: 'migrate',
      project_id: 'demo-project',
      region: 'europe-west1',
      image: IMAGE,
      args: 'up',
      env_vars: [`DATABASE_PATH=${join(dir, 'shop.db')}`, ...(broken ? ['MIGRATIONS_DIR=migrations-broken'] : [])].join('\n'),
      timeout: '5m',
    },
    env: {CLOUD_RUN_EMULATOR_HOST: emulator.address},
    onLine: (line) => console.log(`  ${line}`),
  });
  rule('step outputs');
  for (const [name, value] of Object.entries(result.outputs)) console.log(`  ${name} = ${value}`);
  rule('job summary (GITHUB_STEP_SUMMARY)');
  console.log(result.summary.replace(/^/gm, '  '));
  rule('Cloud Run calls the action made');
  console.log(`  ${emulator.calls.map((c) => c.short).join(' → ')}`);
  console.log(`\nThe step ${result.code === 0 ? 'succeeded: the deploy would run next.' : `failed (exit code ${result.code}): the deploy would not run.`}`);
  process.exitCode = result.code ?? 1;
} finally {
  await emulator.stop();
  await rm(dir, {recursive: true, force: true});
}
