import {startEmulator, type Emulator, type RecordedCall} from '../../emulator/index.ts';
import {ROOT, type ActionRun} from '../../scripts/local-runner.ts';

/** An emulator for end-to-end tests: task processes run from the repository, and stop quickly. */
export const startTestEmulator = (): Promise<Emulator> => startEmulator({workdir: ROOT, killGraceMs: 200, logBufferMs: 50});

/** The error annotations a run left, as the workflow's summary lists them. */
export const errorsOf = (result: ActionRun): string[] =>
  result.annotations.filter((a) => a.level === 'error').map((a) => a.message);

/** The calls to one method that concern one job, by its name in the request. */
export const callsFor = (emulator: Emulator, method: string, job: string): RecordedCall[] =>
  emulator.callsTo(method).filter((c) => JSON.stringify(c.request).includes(`jobs/${job}`));
