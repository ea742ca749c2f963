import assert from 'node:assert/strict';
import {readdirSync, readFileSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {describe, it} from 'node:test';
import {ROOT} from '../scripts/local-runner.ts';

const FOLDERS = ['src', 'emulator', 'scripts', 'bench'];
/** Static imports, type-only ones included, and dynamic import() of a relative module. */
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+\.ts)'/gm;

function modules(folder: string): string[] {
  return readdirSync(join(ROOT, folder), {withFileTypes: true, recursive: true})
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of FOLDERS.flatMap(modules)) {
    const text = readFileSync(file, 'utf8');
    graph.set(file, [...text.matchAll(IMPORT)].map((match) => resolve(dirname(file), match[1])));
  }
  return graph;
}

/** One import circle, as the files on it, or undefined when there is none. */
function findCircle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file];
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const circle = visit(next);
      if (circle) return circle;
    }
    path.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of graph.keys()) {
    const circle = visit(file);
    if (circle) return circle;
  }
  return undefined;
}

describe('the modules', () => {
  it('have no import circle: each sits above what it uses', () => {
    const circle = findCircle(importGraph());
    assert.equal(circle?.map((file) => relative(ROOT, file)).join(' -> '), undefined);
  });

  it('would show a circle made of type-only imports', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['a.ts']],
    ]);
    assert.deepEqual(findCircle(graph), ['a.ts', 'b.ts', 'a.ts']);
  });
});
