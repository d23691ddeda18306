/**
 * What bench/relay.ts needs from a bench harness, self-contained so that the relay bench builds
 * and runs on its own (`node dist/bench/relay.js`) as well as under bench/run.ts: CPU placement
 * (server child on CPU 0, this process on CPU 1, with taskset), waiting for a quiet machine, and
 * a text table. The result shape is bench/harness.ts's ScenarioResult.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface ScenarioResult {
  readonly scenario: string;
  readonly xbar: Record<string, unknown>;
  readonly baseline: Record<string, unknown>;
  readonly ratio: Record<string, number>;
  readonly target: Record<string, string>;
  readonly pass: boolean;
  readonly info?: Record<string, unknown>;
  readonly rows?: Record<string, Record<string, unknown>>;
}

/** The server child on CPU 0, this process (the clients) on CPU 1, when taskset is there. */
export const placement = ((): { pinned: boolean; serverCpu: number; text: string } => {
  // Every CPU of the machine, not this process's affinity (bench/run.ts may have pinned it already).
  const cpus = os.cpus().length;
  const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
  if (cpus >= 2 && taskset) {
    try {
      execFileSync(taskset, ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
      return { pinned: true, serverCpu: 0, text: `${cpus} CPUs: relay child pinned to CPU 0, clients (this process) pinned to CPU 1` };
    } catch {
      // fall through
    }
  }
  return { pinned: false, serverCpu: -1, text: `${cpus} CPUs, not pinned (taskset unavailable)` };
})();

/** Busy CPU seconds of the whole machine so far (/proc/stat; NaN elsewhere). */
function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return (f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0)) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Waits (at most `maxMs`) until the rest of the machine uses less than `cores` CPU over a 200 ms
 * window, so a measured run does not start in someone else's burst. Returns the last load seen.
 */
export async function quiet(maxMs = 1000, cores = 0.2): Promise<number> {
  const deadline = performance.now() + maxMs;
  let load = NaN;
  do {
    const busy0 = machineBusySeconds();
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 200));
    const own = process.cpuUsage(own0);
    load = (machineBusySeconds() - busy0 - (own.user + own.system) / 1e6) / ((performance.now() - t0) / 1000);
    if (!(load >= cores)) return Math.max(0, load);
  } while (performance.now() < deadline);
  return load;
}

/** A text table: one row per label, one column per key. */
export function printTable(title: string, rows: Record<string, Record<string, unknown>>): void {
  const labels = Object.keys(rows);
  const cols = [...new Set(labels.flatMap((l) => Object.keys(rows[l]!)))];
  const cell = (v: unknown): string =>
    v === undefined ? '' : typeof v === 'number' ? (Number.isInteger(v) && Math.abs(v) >= 1000 ? v.toLocaleString('en-US') : String(v)) : String(v);
  const w0 = Math.max(title.length, ...labels.map((l) => l.length));
  const widths = cols.map((c) => Math.max(c.length, ...labels.map((l) => cell(rows[l]![c]).length)));
  const line = (first: string, cells: string[]): string => [first.padEnd(w0), ...cells.map((c, i) => c.padStart(widths[i]!))].join('  ');
  console.log(line(title, cols));
  console.log(line('-'.repeat(w0), widths.map((w) => '-'.repeat(w))));
  for (const l of labels) console.log(line(l, cols.map((c) => cell(rows[l]![c]))));
}
