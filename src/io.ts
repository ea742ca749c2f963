import * as core from '@actions/core';
import {drained} from './drain.ts';
import {fenced} from './sanitize.ts';
import {severityMarks, type SeverityMarks} from './severity.ts';

/**
 * Io is everything a run says to the outside world. The action's logic speaks only
 * through it, so it can run under GitHub Actions, from a terminal or in a test.
 */
export interface Io {
  info(line: string): void;
  /**
   * untrusted prints lines written by the job, so that none of them can act as a command. Like a
   * stream's write, it returns false when the reader is behind: wait for drained() to print more.
   */
  untrusted(lines: string[]): boolean;
  /** The prefix of a job line by its severity, coloured where this reader shows colour. */
  readonly marks: SeverityMarks;
  /** Resolves once the reader has taken what was printed. */
  drained(): Promise<void>;
  warning(message: string): void;
  /** The one line that says why the run failed; it also makes the run fail. */
  fail(message: string): void;
  debug(message: string): void;
  /** mask hides a value wherever it would be printed later. */
  mask(value: string): void;
  output(name: string, value: string | number): void;
  summary(markdown: string): Promise<void>;
  /** remember keeps a value for the post step, which runs even when the main step was killed. */
  remember(name: string, value: string): void;
}

/**
 * githubIo speaks the runner's language: workflow commands, GITHUB_OUTPUT and the step summary.
 * The runner's log viewer shows ANSI colours, whatever the step's stdout is.
 */
export const githubIo: Io = {
  info: (line) => core.info(line),
  untrusted: (lines) => {
    core.info(fenced(lines));
    return !process.stdout.writableNeedDrain;
  },
  marks: severityMarks(true),
  drained: () => drained(process.stdout),
  warning: (message) => core.warning(message),
  fail: (message) => core.setFailed(message),
  debug: (message) => core.debug(message),
  mask: (value) => core.setSecret(value),
  output: (name, value) => core.setOutput(name, value),
  summary: async (markdown) => {
    // Outside a runner (a local run) there is no summary file to write to.
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown, true).write();
  },
  remember: (name, value) => core.saveState(name, value),
};
