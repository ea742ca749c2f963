#!/usr/bin/env node
// The entry of the built emulator, dist/emulator/index.js: the package's cloud-run-migrate-emulator.
// The globals come first, since the client libraries bundled with it read __dirname as they load.
import '../src/cjs-globals.ts';
import '../emulator/main.ts';
