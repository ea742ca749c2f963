import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {readInputs} from '../src/inputs.ts';
import type {Io} from '../src/io.ts';
import {maskSecrets} from '../src/secrets.ts';

function masked(envVars: string): string[] {
  const masks: string[] = [];
  const io = {mask: (value: string) => masks.push(value)} as unknown as Io;
  maskSecrets(readInputs((name) => ({job: 'm', env_vars: envVars})[name] ?? '', {}), io);
  return masks;
}

describe('maskSecrets', () => {
  const cases: Array<[string, string, string[]]> = [
    ['a value under a secret-looking name', 'DB_PASSWORD=correct-horse', ['correct-horse']],
    ['an API key by name', 'STRIPE_API_KEY=sk_live_1', ['sk_live_1']],
    ['the password inside a connection URL, and the URL', 'DATABASE_URL=postgres://app:pa55@db:5432/app', ['pa55', 'postgres://app:pa55@db:5432/app']],
    ['a long mixed token under a plain name', 'UPSTREAM=ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3', ['ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3']],
    ['nothing for plain settings', 'LOG_LEVEL=info\nWORKERS=4\nDEBUG=false', []],
    ['nothing for a path', 'DATABASE_PATH=/tmp/cloud-run-migrate-demo-XqvaFL1/shop.db', []],
    ['nothing for a short value, even under a secret name', 'API_KEY=abc', []],
  ];
  for (const [name, envVars, expected] of cases) {
    it(`masks ${name}`, () => assert.deepEqual(masked(envVars).sort(), [...expected].sort()));
  }
});
