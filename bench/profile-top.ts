/**
 * Reads V8 CPU profiles (`npm run bench -- --prof` writes one per server child) and prints the
 * functions with the most self time, with file:line, and the share of each source file.
 *
 *   node dist/bench/profile-top.js bench-profiles/rpc-xbar-*.cpuprofile [--top=25]
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const maps = new Map<string, SourceMap | undefined>();

/** The source map next to a compiled file, if any. */
function sourceMapOf(file: string): SourceMap | undefined {
  if (!maps.has(file)) {
    try {
      maps.set(file, new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload));
    } catch {
      maps.set(file, undefined);
    }
  }
  return maps.get(file);
}

/** file:line relative to the working directory; compiled files are mapped back to their .ts source. */
function where(url: string, line: number, column: number): { file: string; line: number } {
  if (!url) return { file: '(native)', line: 0 };
  let file = url.startsWith('file://') ? fileURLToPath(url) : url;
  let l = line + 1;
  const map = file.endsWith('.js') ? sourceMapOf(file) : undefined;
  if (map && line >= 0) {
    const e = map.findEntry(line, Math.max(0, column)) as { originalSource?: string; originalLine?: number };
    if (e.originalSource) {
      file = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : path.resolve(path.dirname(file), e.originalSource);
      l = (e.originalLine ?? line) + 1;
    }
  }
  const rel = path.relative(process.cwd(), file);
  return { file: rel.startsWith('..') ? file : rel, line: l };
}

function top(file: string, n: number): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  // Percentages are of busy time: (idle) is when the event loop waited for I/O.
  let idle = 0;
  for (const [id, us] of self) if (byId.get(id)!.callFrame.functionName === '(idle)') idle += us;
  const total = [...self.values()].reduce((a, b) => a + b, 0) - idle;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    const w = where(f.url, f.lineNumber, f.columnNumber);
    const key = `${f.functionName || '(anonymous)'}  ${f.url ? `${w.file}:${w.line}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const fileKey = f.url ? w.file : `(${f.functionName})`;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s busy (percentages of it), ${(idle / 1e6).toFixed(2)} s idle`);
  console.log('  self time by function:');
  for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${pct(us)}  ${k}`);
  console.log('  self time by file:');
  for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${k}`);
  console.log();
}

const args = process.argv.slice(2);
const n = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
const files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  console.error('usage: node dist/bench/profile-top.js FILE.cpuprofile… [--top=N]');
  process.exit(2);
}
for (const f of files) top(f, n);
