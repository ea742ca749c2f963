import {CloudRun, clientOptions} from './clients.ts';
import {errorMessage} from './errors.ts';
import {cancelExecution} from './execution.ts';
import type {Io} from './io.ts';
import {isFinished} from './outcome.ts';
import {parseBoolean} from './parse.ts';

export interface PostContext {
  getInput: (name: string) => string;
  /** What the main step remembered. */
  getState: (name: string) => string;
  env: Record<string, string | undefined>;
  io: Io;
}

/**
 * post is the second chance when the runner interrupted the main step before it could settle the
 * execution it started. The main step remembers `execution` once it waits for one, and
 * `settled: true` once it has dealt with it by itself: the execution finished, was cancelled, or was
 * left running after an error the main step reported (a main step that could not read the state
 * of its execution says so, and the migration goes on). Without that, the main step was killed
 * outright, or was cancelled (or ran past its deadline) and its cancel did not go through
 * (`settled: false`): if the execution is still running, cancel it (or, with cancel_on_abort: false,
 * say it is still running). It never starts anything.
 */
export async function post({getInput, getState, env, io}: PostContext): Promise<void> {
  const execution = getState('execution');
  if (!execution || getState('settled') === 'true') return;
  const raw = getInput('cancel_on_abort');
  let cloud: CloudRun | undefined;
  try {
    const cancelOnAbort = raw === '' || parseBoolean('cancel_on_abort', raw);
    cloud = new CloudRun(clientOptions(env.CLOUD_RUN_EMULATOR_HOST));
    await cloud.authenticate();
    const [current] = await cloud.executions.getExecution({name: execution});
    const id = execution.split('/').pop();
    if (isFinished(current)) {
      io.info(`Execution ${id} has finished.`);
    } else if (!cancelOnAbort) {
      io.warning(`The main step ended before execution ${id}, which is still running (cancel_on_abort: false). Logs: ${current.logUri}`);
    } else if (await cancelExecution(cloud, execution, io)) {
      io.warning(`The main step ended before execution ${id}: it was cancelled. Logs: ${current.logUri}`);
    } else {
      io.warning(`The main step ended before execution ${id}, and cancelling it failed: it may still be running. Logs: ${current.logUri}`);
    }
  } catch (err) {
    io.warning(`Could not check execution ${execution} after the main step: ${errorMessage(err)}`);
  } finally {
    await cloud?.close();
  }
}
