import './cjs-globals.ts';
import * as core from '@actions/core';
import {githubIo} from './io.ts';
import {run} from './main.ts';
import {version} from './version.ts';

await run({getInput: (name) => core.getInput(name), env: process.env, io: githubIo, version});
