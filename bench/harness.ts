/**
 * What every scenario shares: server children pinned to one CPU while the load generators
 * (this process) run on the other, CPU accounting, statistics, interleaved repetition and output.
 * Every child is tracked by pid and killed on exit, on a signal and on errors.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromServer, ServerKind, ToServer } from './server.js';
import { round } from './stats.js';

export { latencySummary, median, medians, pairedRatio, percentile, ratio, round } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const children = new Set<ChildProcess>();

function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}
process.on('exit', killAll);

/** Kills `child` with the bench's own children: at exit, on a signal, on errors. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** CPU placement: the server on CPU 0, this process (clients) on CPU 1, when taskset is there. */
export const placement = ((): { pinned: boolean; serverCpu: number; clientCpu: number; cpus: number; text: string } => {
  const cpus = os.availableParallelism();
  const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
  if (cpus >= 2 && taskset) {
    try {
      // -a: every thread of this process (libuv pool, GC helpers) follows.
      execFileSync(taskset, ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
      return {
        pinned: true, serverCpu: 0, clientCpu: 1, cpus,
        text: `${cpus} CPUs: server child pinned to CPU 0, load generators (this process) pinned to CPU 1`,
      };
    } catch {
      // fall through
    }
  }
  return { pinned: false, serverCpu: -1, clientCpu: -1, cpus, text: `${cpus} CPUs, not pinned (taskset unavailable)` };
})();

export interface Options {
  /** Write a V8 CPU profile of each server child into this directory. */
  profileDir: string | undefined;
  /**
   * Run the bare baseline with per-tick write coalescing (see server.ts), as xbar's transports
   * write (src/transports/write-batcher.ts); `--bare-write` turns it off (one write per message).
   */
  bareCork: boolean;
}
export const options: Options = { profileDir: undefined, bareCork: true };

/** Something whose CPU time the bench reads: a server child, a nats-server, a group of them. */
export interface CpuSource {
  /** CPU time so far, in µs (user + system). */
  cpuMicros(): Promise<number>;
}

/** The CPU of several processes, summed (a cluster's nodes and its nats-server). */
export class CpuGroup implements CpuSource {
  constructor(private readonly members: readonly CpuSource[]) {}

  async cpuMicros(): Promise<number> {
    const all = await Promise.all(this.members.map((m) => m.cpuMicros()));
    return all.reduce((a, b) => a + b, 0);
  }
}

export class ServerChild implements CpuSource {
  private replies: ((m: FromServer) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly kind: ServerKind, readonly child: ChildProcess, readonly url: string) {
    child.on('message', (m: FromServer) => this.replies.shift()?.(m));
  }

  /** `extra`: more arguments for server.js (e.g. `--stats-off`). */
  static async start(kind: ServerKind, label: string = kind, extra: readonly string[] = []): Promise<ServerChild> {
    const script = path.join(here, 'server.js');
    // BENCH_SERVER_FLAGS: extra node flags for the server children (experiments, e.g. GC flags).
    const nodeArgs: string[] = ['--expose-gc', ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean)];
    if (options.profileDir) {
      mkdirSync(options.profileDir, { recursive: true });
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`);
    }
    const argv = [...nodeArgs, script, kind, ...(kind === 'bare' && options.bareCork ? ['--cork'] : []), ...extra];
    const child = placement.pinned
      ? spawn('taskset', ['-c', String(placement.serverCpu), process.execPath, ...argv], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 15 s`)), 15_000);
      child.once('message', (m: FromServer) => {
        clearTimeout(timer);
        if ('ready' in m) resolve(m.url);
        else reject(new Error(`unexpected first message from ${kind} server`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${kind} server exited during start-up (code ${code}, signal ${signal})`));
      });
    }).catch((e: unknown) => {
      if (child.pid !== undefined) child.kill('SIGKILL');
      throw e;
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (code !== 0 && signal !== 'SIGKILL') console.error(`bench: ${label} server exited (code ${code}, signal ${signal})`);
    });
    return new ServerChild(kind, child, url);
  }

  /** One request at a time; replies come back in order. */
  private ask(m: ToServer): Promise<FromServer> {
    const next = this.queue.then(() => new Promise<FromServer>((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return reject(new Error(`${this.kind} server is gone`));
      this.replies.push(resolve);
      this.child.send(m);
    }));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Server CPU time so far, in µs (user + system). */
  async cpuMicros(): Promise<number> {
    const m = await this.ask({ cmd: 'cpu' });
    if (!('cpu' in m)) throw new Error('bad cpu reply');
    return m.cpu.user + m.cpu.system;
  }

  /** The server's resident set size and V8 heap used + external memory, bytes. */
  async memory(): Promise<{ rss: number; heap: number }> {
    const m = await this.ask({ cmd: 'memory' });
    if (!('memory' in m)) throw new Error('bad memory reply');
    return m.memory;
  }

  /** A full garbage collection in the server, before a phase that must not inherit the last one's garbage. */
  async collectGarbage(): Promise<void> {
    const m = await this.ask({ cmd: 'gc' });
    if (!('gc' in m) || !m.gc) throw new Error(`${this.kind} server cannot collect garbage (no --expose-gc)`);
  }

  async stats(): Promise<Record<string, number>> {
    const m = await this.ask({ cmd: 'stats' });
    if (!('stats' in m)) throw new Error('bad stats reply');
    return m.stats;
  }

  /** Asks the child to exit (writing its CPU profile, if any); kills it after 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.send({ cmd: 'stop' } satisfies ToServer);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    children.delete(child);
  }
}

/**
 * Wall time, server CPU and client CPU over a measured interval. Start and stop it while the
 * server is idle (before the load starts, after it has drained) so that the IPC round trip for
 * the CPU reading does not blur the interval; `stop(end)` takes the time the last reply arrived.
 */
export class Meter {
  private t0 = 0;
  private server0 = 0;
  private client0: NodeJS.CpuUsage = { user: 0, system: 0 };

  constructor(private readonly server: CpuSource) {}

  private busy0 = 0;

  async start(): Promise<void> {
    this.server0 = await this.server.cpuMicros();
    this.client0 = process.cpuUsage();
    this.busy0 = machineBusySeconds();
    this.t0 = performance.now();
  }

  /**
   * `seconds` of wall time up to `end` (performance.now()), each side's CPU as a fraction of one
   * core, and `otherLoad`: CPU used by everything else on the machine meanwhile, in cores.
   */
  async stop(end = performance.now()): Promise<Measured> {
    const seconds = (end - this.t0) / 1000;
    const client = process.cpuUsage(this.client0);
    const busy = machineBusySeconds() - this.busy0;
    const serverCpuMicros = (await this.server.cpuMicros()) - this.server0;
    const serverUtil = serverCpuMicros / 1e6 / seconds;
    const clientUtil = (client.user + client.system) / 1e6 / seconds;
    return { seconds, serverCpuMicros, serverUtil, clientUtil, otherLoad: Math.max(0, busy / seconds - serverUtil - clientUtil) };
  }
}

export interface Measured {
  readonly seconds: number;
  readonly serverCpuMicros: number;
  readonly serverUtil: number;
  readonly clientUtil: number;
  readonly otherLoad: number;
}

/** Busy CPU seconds of the whole machine so far (/proc/stat; NaN elsewhere). */
function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return (total - idle) / 100; // USER_HZ
  } catch {
    return NaN;
  }
}

/**
 * Waits (at most `maxMs`) until the rest of the machine uses less than `cores` CPU, measured over
 * 200 ms windows, so that a measured pair of runs does not start in the middle of someone else's
 * burst (the machine is shared). Returns the last load seen, in cores.
 */
export async function quiet(maxMs = 1000, cores = 0.2): Promise<number> {
  const deadline = performance.now() + maxMs;
  let load = NaN;
  do {
    const busy0 = machineBusySeconds();
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(200);
    const own = process.cpuUsage(own0);
    const seconds = (performance.now() - t0) / 1000;
    load = ((machineBusySeconds() - busy0) - (own.user + own.system) / 1e6) / seconds;
    if (!(load >= cores)) return Math.max(0, load);
  } while (performance.now() < deadline);
  debug(`machine still busy (${load.toFixed(2)} cores used by others); measuring anyway`);
  return load;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when `cond()` holds (checked every `everyMs`); rejects with `what` after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Connects `count` clients, at most `parallel` handshakes at a time. */
export async function connectMany<T>(count: number, parallel: number, connect: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await connect(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return out;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly xbar: Record<string, unknown>;
  readonly baseline: Record<string, unknown>;
  readonly ratio: Record<string, number>;
  readonly target: Record<string, string>;
  readonly pass: boolean;
  /** Extra, scenario-specific facts (setup, client CPU, notes). */
  readonly info?: Record<string, unknown>;
  /** The human table, when it is not simply xbar / baseline / ratio (not part of the JSON line). */
  readonly rows?: Record<string, Record<string, unknown>>;
  /** Several human tables, by title (not part of the JSON line). */
  readonly tables?: Record<string, Record<string, Record<string, unknown>>>;
}

/** A human table: one row per label, one column per key. */
export function printTable(title: string, rows: Record<string, Record<string, unknown>>): void {
  const labels = Object.keys(rows);
  const cols = [...new Set(labels.flatMap((l) => Object.keys(rows[l]!)))];
  const cell = (v: unknown): string => (v === undefined ? '' : typeof v === 'number' ? fmt(v) : String(v));
  const w0 = Math.max(title.length, ...labels.map((l) => l.length));
  const widths = cols.map((c) => Math.max(c.length, ...labels.map((l) => cell(rows[l]![c]).length)));
  const line = (first: string, cells: string[]): string =>
    [first.padEnd(w0), ...cells.map((c, i) => c.padStart(widths[i]!))].join('  ');
  console.log(line(title, cols));
  console.log(line('-'.repeat(w0), widths.map((w) => '-'.repeat(w))));
  for (const l of labels) console.log(line(l, cols.map((c) => cell(rows[l]![c]))));
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) >= 1000) return v.toLocaleString('en-US');
  return String(round(v));
}

/** Progress lines on stderr when BENCH_DEBUG is set. */
export function debug(line: string): void {
  if (process.env.BENCH_DEBUG) console.error(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}`);
}

/** A round whose runs all saw less than this much foreign CPU load (cores) is "quiet". */
export const QUIET_LOAD = 0.2;

export interface Rounds<T> {
  /** One array per series, each the runs to use (quiet rounds only, when there were enough). */
  readonly series: T[][];
  /** How the runs were chosen, for the JSON line. */
  readonly quality: { rounds: number; quiet_rounds: number; used: 'quiet rounds' | 'all rounds (machine busy)' };
}

/**
 * Runs the series back to back (xbar, baseline, xbar, baseline, …), a round at a time, each
 * round after `quiet()`: at least `min` rounds, and more (up to `max`) until `wantQuiet` of them
 * were quiet. Medians and ratios are then taken over the quiet rounds if there are `wantQuiet`,
 * else over all rounds (and `quality` says so): a burst of someone else's work on the shared
 * machine must not decide a ratio.
 */
export async function rounds<T extends { other_load: number }>(
  fns: readonly (() => Promise<T>)[], min: number, max: number, wantQuiet = 3,
): Promise<Rounds<T>> {
  const all: T[][] = fns.map(() => []);
  const quietRounds: number[] = [];
  for (let n = 0; n < min || (quietRounds.length < wantQuiet && n < max); n++) {
    await quiet();
    const got: T[] = [];
    for (const f of fns) got.push(await f());
    got.forEach((g, i) => all[i]!.push(g));
    if (Math.max(...got.map((g) => g.other_load)) < QUIET_LOAD) quietRounds.push(n);
  }
  const enough = quietRounds.length >= wantQuiet;
  return {
    series: enough ? all.map((s) => quietRounds.map((i) => s[i]!)) : all,
    quality: { rounds: all[0]!.length, quiet_rounds: quietRounds.length, used: enough ? 'quiet rounds' : 'all rounds (machine busy)' },
  };
}
