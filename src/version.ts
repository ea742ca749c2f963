import pkg from '../package.json' with {type: 'json'};

/** The action's version, from the one place it is written. */
export const version: string = pkg.version;
