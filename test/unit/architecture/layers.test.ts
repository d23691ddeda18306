/**
 * The layer rules of DESIGN.md, read from the import lines of every file under src/: no folder
 * imports a folder that imports it back (directly or round a longer loop), `router/` sees peers
 * only through the connection port (`connection/`, never `transports/`), and `wamp/` imports
 * nothing outside itself. The counts are printed as diagnostics (`node --test` shows them), so a
 * change of structure can be measured: `node --test dist/test/unit/architecture/layers.test.js`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../src');

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The top folder of a file under src/ ("router" for match/trie.ts, "." for node.ts). */
function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '.';
}

/** Every relative import and re-export of every source file (static `from '…'` and `import('…')`). */
function importEdges(): Edge[] {
  const edges: Edge[] = [];
  const statement = /^(import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms;
  const dynamic = /import\('(\.[^']+)'\)/g;
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const add = (spec: string, typeOnly: boolean): void => {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      edges.push({ from: relative(SRC, file), to: relative(SRC, target), typeOnly });
    };
    for (const m of text.matchAll(statement)) add(m[3]!, m[2] !== undefined);
    for (const m of text.matchAll(dynamic)) add(m[1]!, false);
  }
  return edges;
}

function folder(rel: string): string {
  return folderOf(join(SRC, rel));
}

/** Folder loops: the strongly connected components of the folder graph with more than one folder. */
function folderCycles(edges: readonly Edge[]): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = folder(e.from);
    const b = folder(e.to);
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    if (a !== b) graph.get(a)!.add(b);
  }
  // Tarjan's algorithm.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const edges = importEdges();
const cross = edges.filter((e) => folder(e.from) !== folder(e.to));

test('layers: prints the cross-folder import counts', (t) => {
  const pairs = new Map<string, { all: number; types: number }>();
  for (const e of cross) {
    const key = `${folder(e.from)} -> ${folder(e.to)}`;
    const p = pairs.get(key) ?? { all: 0, types: 0 };
    p.all++;
    if (e.typeOnly) p.types++;
    pairs.set(key, p);
  }
  t.diagnostic(`${sourceFiles(SRC).length} files, ${edges.length} relative imports, ${cross.length} across folders (${cross.filter((e) => e.typeOnly).length} type-only)`);
  for (const [k, p] of [...pairs].sort()) t.diagnostic(`  ${k}: ${p.all} (${p.types} type-only)`);
  const cycles = folderCycles(edges);
  t.diagnostic(`folder cycles: ${cycles.length === 0 ? 'none' : cycles.map((c) => c.join(' <-> ')).join('; ')}`);
  assert.ok(edges.length > 100, 'the import scanner found the imports');
});

test('layers: no folder imports a folder that imports it back', () => {
  const cycles = folderCycles(edges);
  const detail = cycles.map((scc) => {
    const inside = cross.filter((e) => scc.includes(folder(e.from)) && scc.includes(folder(e.to)));
    return `${scc.join(', ')}:\n    ${inside.map((e) => `${e.from} -> ${e.to}`).join('\n    ')}`;
  });
  assert.deepEqual(detail, []);
});

test('layers: router/ imports no transport module', () => {
  assert.deepEqual(cross.filter((e) => folder(e.from) === 'router' && folder(e.to) === 'transports').map((e) => `${e.from} -> ${e.to}`), []);
});

test('layers: wamp/ imports nothing outside wamp/', () => {
  assert.deepEqual(cross.filter((e) => folder(e.from) === 'wamp').map((e) => `${e.from} -> ${e.to}`), []);
});
