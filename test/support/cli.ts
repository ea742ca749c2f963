import {execFile} from 'node:child_process';
import {cp, mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {ROOT} from '../../scripts/local-runner.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CopiedCli {
  /** The temporary folder the bundle was copied to, the runs' cwd and HOME. */
  dir: string;
  /** index.js of the copy. */
  path: string;
  /** Runs the command line with `args`, and only PATH, HOME and `env` in its environment. */
  run(args: string[], env: Record<string, string>): Promise<CliRun>;
  remove(): Promise<void>;
}

/** The command line's bundle, copied away from node_modules: it must run on its own. */
export async function copyCli(prefix: string): Promise<CopiedCli> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await cp(join(ROOT, 'dist/cli'), join(dir, 'cli'), {recursive: true});
  const path = join(dir, 'cli/index.js');
  return {
    dir,
    path,
    run: (args, env) =>
      new Promise((resolve) =>
        execFile(process.execPath, [path, ...args], {env: {PATH: process.env.PATH ?? '', HOME: dir, ...env}, cwd: dir}, (err, stdout, stderr) =>
          resolve({code: err ? Number(err.code) : 0, stdout, stderr}),
        ),
      ),
    remove: () => rm(dir, {recursive: true, force: true}),
  };
}
