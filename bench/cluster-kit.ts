/**
 * The processes of the cluster bench: a real nats-server (JetStream on, monitoring port for
 * `/varz`) on free loopback ports, pinned with the xbar nodes to the server CPU, and CPU readings
 * of it from /proc; `NatsCounter`: NATS messages per unit of work from `/varz`. Killed with the
 * bench's other children (harness `track`), its store removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CpuSource, placement, sleep, track } from './harness.js';

const NATS_BIN = process.env.NATS_SERVER ?? 'nats-server';

/** A port nobody listens on right now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The counters of nats-server's `/varz` that the bench reads. */
/** utime + stime of a process (/proc/PID/stat, in USER_HZ = 100 ticks/s), in µs. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

export interface Varz {
  readonly in_msgs: number;
  readonly out_msgs: number;
  readonly in_bytes: number;
  readonly out_bytes: number;
  readonly slow_consumers: number;
}

/** One client connection of nats-server's `/connz?subs=1`. */
export interface Connz {
  readonly name: string;
  readonly subscriptions: number;
  readonly subscriptions_list?: readonly string[];
}

export class NatsProcess implements CpuSource {
  private constructor(
    readonly url: string,
    private readonly monitor: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  /** Starts `nats-server -a 127.0.0.1 -p P -js -sd DIR -m M`; resolves once `/varz` answers. */
  static async start(): Promise<NatsProcess> {
    const [port, http] = [await freePort(), await freePort()];
    const dir = mkdtempSync(path.join(tmpdir(), 'xbar-bench-nats-'));
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '-m', String(http)];
    const child = placement.pinned
      ? spawn('taskset', ['-c', String(placement.serverCpu), NATS_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(NATS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    track(child);
    // nats-server logs to stderr; kept (the last 4 KiB) to explain a failed start.
    let log = '';
    child.stderr!.on('data', (d: Buffer) => void (log = (log + d.toString()).slice(-4096)));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const nats = new NatsProcess(`nats://127.0.0.1:${port}`, `http://127.0.0.1:${http}`, child, dir);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start ${NATS_BIN}: ${e.message}`)));
      child.once('exit', (code, signal) => reject(new Error(`${NATS_BIN} exited during start-up (code ${code}, signal ${signal}): ${log.trim()}`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await Promise.race([nats.varz(), failed]);
        return nats;
      } catch (e) {
        if (child.exitCode !== null || Date.now() > deadline) {
          await nats.stop();
          throw e;
        }
        await sleep(50);
      }
    }
  }

  async varz(): Promise<Varz> {
    const res = await fetch(`${this.monitor}/varz`);
    if (!res.ok) throw new Error(`/varz: HTTP ${res.status}`);
    const v = (await res.json()) as Varz;
    return { in_msgs: v.in_msgs, out_msgs: v.out_msgs, in_bytes: v.in_bytes, out_bytes: v.out_bytes, slow_consumers: v.slow_consumers };
  }

  /** The client connections (not routes), with their subscriptions. */
  async connz(): Promise<Connz[]> {
    const res = await fetch(`${this.monitor}/connz?subs=1&limit=100000`);
    if (!res.ok) throw new Error(`/connz: HTTP ${res.status}`);
    return ((await res.json()) as { connections?: Connz[] }).connections ?? [];
  }

  async cpuMicros(): Promise<number> {
    return processCpuMicros(this.child.pid!);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * NATS messages in and out (`/varz`) per unit of work between two readings, less the cluster's
 * own background traffic (heartbeats, measured while idle) over the same time.
 */
export class NatsCounter {
  private background = { in: 0, out: 0 };

  constructor(private readonly nats: NatsProcess) {}

  /** Measures the idle message rate over `ms`. */
  async calibrate(ms: number): Promise<void> {
    const a = await this.read();
    await sleep(ms);
    const b = await this.read();
    const s = (b.at - a.at) / 1000;
    this.background = { in: (b.varz.in_msgs - a.varz.in_msgs) / s, out: (b.varz.out_msgs - a.varz.out_msgs) / s };
  }

  async read(): Promise<{ varz: Varz; at: number }> {
    const varz = await this.nats.varz();
    return { varz, at: performance.now() };
  }

  async since(a: { varz: Varz; at: number }, units: number): Promise<{ in: number; out: number }> {
    const b = await this.read();
    const s = (b.at - a.at) / 1000;
    return {
      in: Math.max(0, b.varz.in_msgs - a.varz.in_msgs - this.background.in * s) / units,
      out: Math.max(0, b.varz.out_msgs - a.varz.out_msgs - this.background.out * s) / units,
    };
  }

  get idle(): { in: number; out: number } {
    return this.background;
  }
}
