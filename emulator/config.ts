// The emulator's config file (--config emulator.json): the scene a standalone emulator
// starts with, as startEmulator()'s options would set it. Every field is checked, and a
// bad one is refused with its path in the file and what it must be.
import {readFile} from 'node:fs/promises';
import {dirname, resolve} from 'node:path';
import {status} from '@grpc/grpc-js';
import type {EmulatorOptions, FaultRule, ImageConfig} from './index.ts';

/** A config file that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** What a config file sets: the options of startEmulator() that JSON can hold. */
export type ConfigOptions = Pick<EmulatorOptions, 'workdir' | 'images' | 'secrets' | 'faults' | 'killGraceMs' | 'logBufferMs'>;

type Json = unknown;

const SECRET_VERSION = /^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/;
const METHOD = /^(?:[a-z][a-z0-9]*(?:\.[a-z][a-z0-9]*)*\.[A-Z]\w*\/)?[A-Z]\w*$/;
const FIELDS = ['workdir', 'images', 'secrets', 'faults', 'latency', 'killGraceMs', 'logBufferMs'];
const FAULT_FIELDS = ['method', 'code', 'message', 'times', 'afterEffect', 'delayMs', 'hang', 'match'];
const IMAGE_FIELDS = ['command', 'args'];

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * parseConfig reads a config file's text. `file` names it in errors; a relative workdir is
 * taken from the file's folder, so the file means the same wherever the emulator starts.
 */
export function parseConfig(text: string, file: string): ConfigOptions {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`${file}: ${field} ${problem}`);
  };
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail('the file', `is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) return fail('the file', 'must hold a JSON object');
  only(json, FIELDS, '', fail);

  const config: ConfigOptions = {};
  if (json.workdir !== undefined) config.workdir = resolve(dirname(file), nonEmpty(json.workdir, 'workdir', fail));
  if (json.killGraceMs !== undefined) config.killGraceMs = count(json.killGraceMs, 'killGraceMs', fail);
  if (json.logBufferMs !== undefined) config.logBufferMs = count(json.logBufferMs, 'logBufferMs', fail);
  if (json.secrets !== undefined) config.secrets = secrets(json.secrets, fail);
  if (json.images !== undefined) config.images = images(json.images, fail);
  const faults = [
    ...(json.faults === undefined ? [] : list(json.faults, 'faults', fail).map((rule, i) => fault(rule, `faults[${i}]`, fail))),
    ...(json.latency === undefined ? [] : latency(json.latency, fail)),
  ];
  if (faults.length > 0) config.faults = faults;
  return config;
}

/** readConfig reads and parses a config file. */
export async function readConfig(file: string): Promise<ConfigOptions> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new ConfigError(`${file}: cannot be read (${err.message})`);
  });
  return parseConfig(text, file);
}

type Fail = (field: string, problem: string) => never;

function only(object: Record<string, Json>, known: string[], at: string, fail: Fail): void {
  const unknown = Object.keys(object).find((key) => !known.includes(key));
  if (unknown !== undefined) fail(`${at}${at ? '.' : ''}${unknown}`, `is not a field the emulator knows (it knows ${known.join(', ')})`);
}

function nonEmpty(value: Json, field: string, fail: Fail): string {
  return typeof value === 'string' && value !== '' ? value : fail(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
}

function count(value: Json, field: string, fail: Fail): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0
    ? value
    : fail(field, `must be a whole number of milliseconds, got ${JSON.stringify(value)}`);
}

function list(value: Json, field: string, fail: Fail): Json[] {
  return Array.isArray(value) ? value : fail(field, `must be a JSON array, got ${JSON.stringify(value)}`);
}

function object(value: Json, field: string, fail: Fail): Record<string, Json> {
  return isObject(value) ? value : fail(field, `must be a JSON object, got ${JSON.stringify(value)}`);
}

function words(value: Json, field: string, fail: Fail): string[] {
  return Array.isArray(value) && value.every((word) => typeof word === 'string')
    ? value
    : fail(field, `must be an array of strings, such as ["node", "migrate.mjs"], got ${JSON.stringify(value)}`);
}

function secrets(value: Json, fail: Fail): Record<string, string> {
  const entries = Object.entries(object(value, 'secrets', fail));
  for (const [name, secret] of entries) {
    const field = `secrets[${JSON.stringify(name)}]`;
    if (!SECRET_VERSION.test(name)) fail(field, 'must be named projects/PROJECT/secrets/NAME/versions/VERSION (VERSION a number or latest)');
    if (typeof secret !== 'string') fail(field, `must be the secret's value as a string, got ${typeof secret}`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function images(value: Json, fail: Fail): Record<string, ImageConfig> {
  return Object.fromEntries(
    Object.entries(object(value, 'images', fail)).map(([image, config]) => {
      const field = `images[${JSON.stringify(image)}]`;
      const spec = object(config, field, fail);
      only(spec, IMAGE_FIELDS, field, fail);
      const entry: ImageConfig = {};
      if (spec.command !== undefined) entry.command = words(spec.command, `${field}.command`, fail);
      if (spec.args !== undefined) entry.args = words(spec.args, `${field}.args`, fail);
      return [image, entry];
    }),
  );
}

function method(value: Json, field: string, fail: Fail): string {
  return typeof value === 'string' && METHOD.test(value)
    ? value
    : fail(field, `must be a method name such as "RunJob" or "google.cloud.run.v2.Jobs/RunJob", got ${JSON.stringify(value)}`);
}

function statusCode(value: Json, field: string, fail: Fail): number {
  const codes = status as unknown as Record<string, number>;
  if (typeof value === 'string' && Object.hasOwn(codes, value) && typeof codes[value] === 'number') return codes[value];
  if (typeof value === 'number' && Object.values(codes).includes(value)) return value;
  return fail(field, `must be a gRPC status such as "UNAVAILABLE" or its number (14), got ${JSON.stringify(value)}`);
}

function flag(value: Json, field: string, fail: Fail): boolean {
  return typeof value === 'boolean' ? value : fail(field, `must be true or false, got ${JSON.stringify(value)}`);
}

/** A field of a request, by its camelCase path ("overrides.taskCount"), as the emulator decodes it. */
const fieldOf = (request: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), request);

function fault(value: Json, field: string, fail: Fail): FaultRule {
  const spec = object(value, field, fail);
  only(spec, FAULT_FIELDS, field, fail);
  const rule: FaultRule = {method: method(spec.method, `${field}.method`, fail)};
  if (spec.code !== undefined) rule.code = statusCode(spec.code, `${field}.code`, fail);
  if (spec.message !== undefined) rule.message = nonEmpty(spec.message, `${field}.message`, fail);
  if (spec.times !== undefined) {
    const times = spec.times;
    if (times === 'Infinity') rule.times = Infinity;
    else if (typeof times === 'number' && Number.isInteger(times) && times > 0) rule.times = times;
    else fail(`${field}.times`, `must be a whole number above 0, or "Infinity", got ${JSON.stringify(times)}`);
  }
  if (spec.afterEffect !== undefined) rule.afterEffect = flag(spec.afterEffect, `${field}.afterEffect`, fail);
  if (spec.hang !== undefined) rule.hang = flag(spec.hang, `${field}.hang`, fail);
  if (spec.delayMs !== undefined) rule.delayMs = count(spec.delayMs, `${field}.delayMs`, fail);
  if (spec.match !== undefined) {
    const match = Object.entries(object(spec.match, `${field}.match`, fail));
    for (const [path, expected] of match) {
      if (!['string', 'number', 'boolean'].includes(typeof expected)) {
        fail(`${field}.match[${JSON.stringify(path)}]`, `must be a string, number or boolean, got ${JSON.stringify(expected)}`);
      }
    }
    rule.when = (request) => match.every(([path, expected]) => fieldOf(request, path) === expected);
  }
  return rule;
}

/** latency: {"GetExecution": 200} slows every call to a method, after any fault rule for it. */
function latency(value: Json, fail: Fail): FaultRule[] {
  return Object.entries(object(value, 'latency', fail)).map(([name, ms]) => {
    const field = `latency[${JSON.stringify(name)}]`;
    return {method: method(name, field, fail), delayMs: count(ms, field, fail), times: Infinity};
  });
}
