import './cjs-globals.ts';
import './stream-buffers.ts';
import * as core from '@actions/core';
import {githubIo} from './io.ts';
import {run} from './main.ts';
import {post} from './post.ts';
import {version} from './version.ts';

// One bundle serves both steps: the main step leaves a mark that the post step sees.
if (core.getState('isPost') === 'true') {
  await post({getInput: (name) => core.getInput(name), getState: core.getState, env: process.env, io: githubIo});
} else {
  core.saveState('isPost', 'true');
  // The runner cancels a step with SIGINT, then SIGTERM 7.5 s later, then kills it 2.5 s after.
  const cancelled = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => cancelled.abort(signal));
  await run({getInput: (name) => core.getInput(name), env: process.env, io: githubIo, version, signal: cancelled.signal});
}
