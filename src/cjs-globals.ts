import {dirname} from 'node:path';
import {fileURLToPath} from 'node:url';

// The Google client libraries are CommonJS and read __dirname at load time; an ES module bundle has none.
(globalThis as {__dirname?: string}).__dirname ??= dirname(fileURLToPath(import.meta.url));
