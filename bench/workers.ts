/**
 * workers (`npm run bench -- --workers N` or `--workers 1,2,4`): one node started as
 * `xbar start --workers N` (a real child process: the primary, its hub and N router workers),
 * measured by the server CPU of all of them together per delivered event or call.
 *
 * For each N: fan-out 1 → SUBSCRIBERS (bench/fanout.ts's workload and checks), the mesh
 * (bench/cluster-mesh.ts: MESH_CONNECTIONS connections, each publishing to its own topic and
 * subscribed to its neighbour's, at MESH_RATE/s each) and RPC (CALLERS callers × WINDOW calls in
 * flight to one callee). With N ≥ 2 each runs twice, alternating in rounds: every client on one
 * worker (same-worker) and the traffic crossing workers (fan-out: publisher on another worker than
 * the subscribers; mesh: connection i on worker i mod 2, so every event crosses; RPC: the callee on
 * another worker than its callers). Target (issue 18): cross-worker CPU per delivered event ≤ 1.2 ×
 * same-worker. Also per N: the mesh closed-loop peak with connections spread over every worker —
 * the figure that scales with cores on a machine that has them.
 *
 * A session's worker is read from its id: a worker issues ids in its hub slot, `(id − 1) mod 1024`
 * (backplane/hub/). The primary hands connections out in turn; a client joins again until it is
 * on the worker it needs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, processCpuMicros } from './cluster-kit.js';
import { Mesh, MESH_CONNECTIONS, type MeshRun } from './cluster-mesh.js';
import { Delivery, PAYLOAD, type Rig, run as fanoutRun, subscriberHandler, SUBSCRIBERS, TOPIC } from './fanout.js';
import {
  connectMany, type CpuSource, debug, Meter, medians, pairedRatio, placement, round, rounds, type ScenarioResult, sleep, track, until,
} from './harness.js';
import { M, nthComma, WampPeer } from './wamp-peer.js';

const MESH_RATE = Number(process.env.BENCH_MESH_RATE ?? 100);
const MESH_MS = 1500;
const FANOUT_MS = 1500;
const RPC_MS = 1000;
const CALLERS = 8;
/** BENCH_RPC_WINDOW: calls each RPC caller keeps in flight (default 10). */
const WINDOW = Number(process.env.BENCH_RPC_WINDOW ?? 10);
const ROUNDS = 3;
/** BENCH_WORKERS_PARTS=rpc (or fanout,mesh,rpc): run only these workloads (default all). */
const PARTS = new Set((process.env.BENCH_WORKERS_PARTS ?? 'fanout,mesh,rpc').split(',').map((s) => s.trim()));
const XBAR_BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'xbar.js');

/** Which worker counts `--workers` asked for. */
export const workerCounts: number[] = [];

export function parseWorkerCounts(value: string): void {
  const counts = value.split(',').map((v) => Number(v.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--workers: expected N or N,M,… (numbers >= 1), got "${value}"`);
  // One number N: 1 and N, so every figure has the one-worker node beside it.
  workerCounts.push(...(counts.length === 1 ? [...new Set([1, counts[0]!])] : counts));
}

/** `xbar start --workers N` as a child process, pinned to the server CPU; its CPU is the primary's and every worker's. */
export class WorkersNode implements CpuSource {
  private constructor(readonly n: number, readonly url: string, private readonly child: ChildProcess) {}

  static async start(n: number): Promise<WorkersNode> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'xbar-bench-workers-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'node.json');
    writeFileSync(file, JSON.stringify(benchConfig(port)));
    // BENCH_SERVER_FLAGS: extra node flags (e.g. --cpu-prof --cpu-prof-dir=…); the workers inherit them (cluster.fork).
    const flags = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
    const args = [...flags, XBAR_BIN, 'start', '--config', file, '--log-level', 'warn', ...(n > 1 ? ['--workers', String(n)] : [])];
    const child = placement.pinned
      ? spawn('taskset', ['-c', String(placement.serverCpu), process.execPath, ...args], { stdio: ['ignore', 'ignore', 'inherit'] })
      : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    track(child);
    const node = new WorkersNode(n, `ws://127.0.0.1:${port}/ws`, child);
    await until(async () => node.processes().length === (n > 1 ? n + 1 : 1) && (await node.answers(n)), `xbar --workers ${n} to start`, 20_000, 100);
    return node;
  }

  /** Every worker answers: a join lands on each of them. */
  private async answers(n: number): Promise<boolean> {
    try {
      const seen = new Set<number>();
      for (let i = 0; i < 4 * n && seen.size < n; i++) {
        const p = await WampPeer.join(this.url);
        seen.add(this.workerOf(p));
        p.close();
      }
      return seen.size === n;
    } catch {
      return false;
    }
  }

  /** The primary and its workers (taskset execs node in place, so the child is the primary). */
  processes(): number[] {
    const pid = this.child.pid!;
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
      return [pid, ...children];
    } catch {
      return [pid];
    }
  }

  async cpuMicros(): Promise<number> {
    return this.processes().reduce((sum, pid) => {
      try {
        return sum + processCpuMicros(pid);
      } catch {
        return sum; // a worker that just exited
      }
    }, 0);
  }

  workerOf(p: WampPeer): number {
    return this.n === 1 ? 0 : (p.sessionId - 1) % 1024;
  }

  /** Joins until the session is on worker `slot` (the primary hands connections out in turn). */
  async joinOn(slot: number): Promise<WampPeer> {
    for (let i = 0; i < 16 * this.n; i++) {
      const p = await WampPeer.join(this.url);
      if (this.workerOf(p) === slot) return p;
      p.close();
    }
    throw new Error(`no session landed on worker slot ${slot}`);
  }

  /** The workers' slots, in the order first seen. */
  async slots(): Promise<number[]> {
    const seen: number[] = [];
    for (let i = 0; i < 8 * this.n && seen.length < this.n; i++) {
      const p = await WampPeer.join(this.url);
      const s = this.workerOf(p);
      if (!seen.includes(s)) seen.push(s);
      p.close();
    }
    return seen;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** One WebSocket transport, realm1 open to anonymous; no per-address limits (the bench joins thousands of sessions from 127.0.0.1). */
function benchConfig(port: number): object {
  return {
    version: 2,
    limits: { connections: false, max_sessions_per_address: false },
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }] }],
      transports: [{ type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port }, paths: { ws: { type: 'websocket' } } }],
    }],
  };
}

// ---- fan-out -------------------------------------------------------------------------------------

async function fanoutRig(node: WorkersNode, label: string, tag: string, subsOn: number, pubOn: number, closers: (() => void)[]): Promise<Rig> {
  const delivery = new Delivery();
  const topic = `${TOPIC}.${tag}`;
  const subs = await connectMany(SUBSCRIBERS, 50, async (i) => {
    const peer = await node.joinOn(subsOn);
    peer.onHot = subscriberHandler(delivery, i, await peer.subscribe(topic));
    return peer;
  });
  const pub = await node.joinOn(pubOn);
  closers.push(() => [...subs, pub].forEach((p) => p.close()));
  return {
    label, server: node, delivery,
    publish: () => pub.ws.send(`[${M.PUBLISH},${pub.request()},{},"${topic}",["${PAYLOAD}"]]`),
    cork: () => pub.ws.cork(),
    uncork: () => pub.ws.uncork(),
    close: () => [...subs, pub].forEach((p) => p.close()),
  };
}

// ---- RPC ---------------------------------------------------------------------------------------

type RpcRun = { calls_per_s: number; server_cpu_us_per_call: number; server_cpu_util: number; other_load: number };

interface RpcRig {
  readonly label: string;
  readonly node: WorkersNode;
  readonly callers: WampPeer[];
  readonly procedure: string;
}

export async function rpcRig(node: WorkersNode, label: string, calleeOn: number, callersOn: number, closers: (() => void)[]): Promise<RpcRig> {
  const procedure = `bench.workers.echo.${label.replace(/\W+/g, '_')}`;
  const callee = await node.joinOn(calleeOn);
  await callee.register(procedure);
  callee.onHot = (payload, type) => {
    if (type !== M.INVOCATION) return;
    // [68,INV,REG,{},ARGS] → [70,INV,{},ARGS]
    const c1 = nthComma(payload, 1);
    const c2 = nthComma(payload, 2);
    const c4 = nthComma(payload, 4);
    callee.ws.send(Buffer.concat([Buffer.from(`[${M.YIELD},`), payload.subarray(c1 + 1, c2), Buffer.from(',{}'), payload.subarray(c4)]));
  };
  const callers: WampPeer[] = [];
  for (let i = 0; i < CALLERS; i++) callers.push(await node.joinOn(callersOn));
  closers.push(() => [callee, ...callers].forEach((p) => p.close()));
  return { label, node, callers, procedure };
}

export async function rpcRun(rig: RpcRig, ms: number): Promise<RpcRun> {
  let running = true;
  let outstanding = 0;
  let done = 0;
  let lastAt = 0;
  const call = (p: WampPeer) => {
    p.ws.send(`[${M.CALL},${p.request()},{},"${rig.procedure}",["${'x'.repeat(32)}"]]`);
    outstanding++;
  };
  for (const p of rig.callers) {
    p.onHot = (_payload, type) => {
      if (type !== M.RESULT) return;
      outstanding--;
      done++;
      lastAt = performance.now();
      if (running) call(p);
    };
  }
  const meter = new Meter(rig.node);
  await meter.start();
  for (const p of rig.callers) for (let k = 0; k < WINDOW; k++) call(p);
  await sleep(ms);
  running = false;
  await until(() => outstanding === 0, `${rig.label}: every call to get its result`, 10_000);
  const m = await meter.stop(lastAt);
  debug(`${rig.label} rpc: ${done} calls in ${m.seconds.toFixed(2)} s`);
  return { calls_per_s: done / m.seconds, server_cpu_us_per_call: m.serverCpuMicros / done, server_cpu_util: m.serverUtil, other_load: m.otherLoad };
}

// ---- the scenario --------------------------------------------------------------------------------

type FanRun = Awaited<ReturnType<typeof fanoutRun>>;

interface PerN {
  readonly n: number;
  readonly fanout: { same: FanRun[]; cross?: FanRun[] };
  readonly mesh: { same: MeshRun[]; cross?: MeshRun[]; peak: MeshRun[] };
  readonly rpc: { same: RpcRun[]; cross?: RpcRun[] };
  readonly quality: Record<string, unknown>;
}

async function measure(n: number): Promise<PerN> {
  const node = await WorkersNode.start(n);
  const closers: (() => void)[] = [];
  const meshes: Mesh[] = [];
  try {
    const slots = await node.slots();
    const [a, b] = [slots[0]!, slots[1] ?? slots[0]!];
    debug(`workers ${n}: up, slots ${slots.join(', ')}`);
    const pair = async <T extends { other_load: number }>(same: () => Promise<T>, cross: (() => Promise<T>) | undefined) => {
      const r = await rounds(cross ? [same, cross] : [same], ROUNDS, ROUNDS + 1);
      return { same: r.series[0]!, cross: cross ? r.series[1]! : undefined, quality: r.quality };
    };
    const none = { same: [] as never[], cross: undefined, quality: 'skipped' };
    let fan: { same: FanRun[]; cross?: FanRun[]; quality: unknown } = none;
    let mesh: { same: MeshRun[]; cross?: MeshRun[]; quality: unknown } = none;
    let peak: { series: MeshRun[][]; quality: unknown } = { series: [[]], quality: 'skipped' };
    let rpc: { same: RpcRun[]; cross?: RpcRun[]; quality: unknown } = none;
    if (PARTS.has('fanout')) {
      // Fan-out: subscribers on worker a; the publisher on a (same) or b (cross).
      debug(`workers ${n}: fan-out rigs`);
      const fanSame = await fanoutRig(node, `fan-out, ${n} workers, same worker`, 'same', a, a, closers);
      const fanCross = n > 1 ? await fanoutRig(node, `fan-out, ${n} workers, cross-worker`, 'cross', a, b, closers) : undefined;
      debug(`workers ${n}: fan-out warm-up`);
      await fanoutRun(fanSame, 500);
      if (fanCross) await fanoutRun(fanCross, 500);
      fan = await pair(() => fanoutRun(fanSame, FANOUT_MS), fanCross && (() => fanoutRun(fanCross, FANOUT_MS)));
      for (const c of closers.splice(0)) c();
    }
    if (PARTS.has('mesh')) {
      // Mesh: every connection on a (same), alternating a/b (cross), spread over every worker (peak).
      const meshSame = new Mesh(`mesh, ${n} workers, same worker`, node, undefined);
      meshes.push(meshSame);
      await meshSame.connect(`s${n}`, () => node.joinOn(a));
      const meshCross = n > 1 ? new Mesh(`mesh, ${n} workers, cross-worker`, node, undefined) : undefined;
      if (meshCross) {
        meshes.push(meshCross);
        await meshCross.connect(`c${n}`, (i) => node.joinOn(i % 2 === 0 ? a : b));
    }
    await meshSame.paced(MESH_RATE, 500);
    await meshCross?.paced(MESH_RATE, 500);
    mesh = await pair(() => meshSame.paced(MESH_RATE, MESH_MS), meshCross && (() => meshCross.paced(MESH_RATE, MESH_MS)));
    meshes.splice(0).forEach((m) => m.close());
    const meshSpread = new Mesh(`mesh, ${n} workers, spread`, node, undefined);
    meshes.push(meshSpread);
    await meshSpread.connect(`p${n}`, (i) => node.joinOn(slots[i % slots.length]!));
    await meshSpread.peak(500);
    peak = await rounds([() => meshSpread.peak(MESH_MS)], ROUNDS, ROUNDS + 1);
    meshes.splice(0).forEach((m) => m.close());
    }
    if (PARTS.has('rpc')) {
      // RPC: callers on a; the callee on a (same) or b (cross).
      const rpcSame = await rpcRig(node, `rpc ${n} same`, a, a, closers);
      const rpcCross = n > 1 ? await rpcRig(node, `rpc ${n} cross`, b, a, closers) : undefined;
      await rpcRun(rpcSame, 300);
      if (rpcCross) await rpcRun(rpcCross, 300);
      rpc = await pair(() => rpcRun(rpcSame, RPC_MS), rpcCross && (() => rpcRun(rpcCross, RPC_MS)));
    }
    return {
      n, fanout: fan, mesh: { same: mesh.same, cross: mesh.cross, peak: peak.series[0]! }, rpc,
      quality: { fanout: fan.quality, mesh: mesh.quality, mesh_peak: peak.quality, rpc: rpc.quality },
    };
  } finally {
    meshes.forEach((m) => m.close());
    closers.forEach((c) => c());
    await node.stop();
  }
}

export async function workers(): Promise<ScenarioResult> {
  const counts = workerCounts.length > 0 ? workerCounts : [1, 2];
  const all: PerN[] = [];
  for (const n of counts) all.push(await measure(n));
  const rows: Record<string, Record<string, unknown>> = {};
  const xbar: Record<string, unknown> = {};
  const ratioOut: Record<string, number> = {};
  const target: Record<string, string> = {};
  let pass = true;
  for (const r of all) {
    const row = (what: string, fan: FanRun[] | undefined, mesh: MeshRun[] | undefined, rpc: RpcRun[] | undefined) => {
      if (!fan?.length && !mesh?.length && !rpc?.length) return;
      const f = medians(fan ?? []);
      const m = medians(mesh ?? []);
      const c = medians(rpc ?? []);
      const cells: Record<string, unknown> = {
        fanout_events_per_s: f.events_per_s, fanout_cpu_us_per_event: f.server_cpu_us_per_event,
        mesh_cpu_us_per_event: m.server_cpu_us_per_event, mesh_p50_us: m.p50_us,
        rpc_calls_per_s: c.calls_per_s, rpc_cpu_us_per_call: c.server_cpu_us_per_call,
        other_load: round(Math.max(...[f.other_load, m.other_load, c.other_load].filter((v) => v !== undefined))),
      };
      // Workloads left out (BENCH_WORKERS_PARTS) have no cells.
      rows[`${r.n} worker${r.n > 1 ? 's' : ''}, ${what}`] = Object.fromEntries(Object.entries(cells).filter(([, v]) => v !== undefined));
      return { fanout: f, mesh: m, rpc: c };
    };
    const same = row(r.n > 1 ? 'same worker' : 'one router', r.fanout.same, r.mesh.same, r.rpc.same);
    const cross = row('cross-worker', r.fanout.cross, r.mesh.cross, r.rpc.cross);
    const peak = medians(r.mesh.peak);
    if (r.mesh.peak.length > 0) {
      rows[`${r.n} worker${r.n > 1 ? 's' : ''}, mesh peak spread over all`] = { mesh_delivered_per_s: peak.delivered_per_s, mesh_cpu_us_per_event: peak.server_cpu_us_per_event };
    }
    xbar[`workers_${r.n}`] = { same, cross, mesh_peak_spread: peak, rounds: r.quality };
    const ratios: Record<string, number> = {};
    if (r.fanout.cross?.length) ratios.fanout = pairedRatio(r.fanout.cross, r.fanout.same, 'server_cpu_us_per_event');
    if (r.mesh.cross?.length) ratios.mesh = pairedRatio(r.mesh.cross, r.mesh.same, 'server_cpu_us_per_event');
    if (r.rpc.cross?.length) ratios.rpc = pairedRatio(r.rpc.cross, r.rpc.same, 'server_cpu_us_per_call');
    if (Object.keys(ratios).length > 0) {
      rows[`${r.n} workers, ratio cross / same`] = {
        fanout_cpu_us_per_event: ratios.fanout, mesh_cpu_us_per_event: ratios.mesh, rpc_cpu_us_per_call: ratios.rpc,
      };
      for (const [k, v] of Object.entries(ratios)) {
        ratioOut[`${k}_cross_over_same_${r.n}`] = v;
        target[`${k}_cross_over_same_${r.n}`] = '<= 1.2';
        if (v > 1.2) pass = false;
      }
    }
  }
  return {
    scenario: 'workers',
    xbar,
    baseline: {},
    ratio: ratioOut,
    target,
    pass,
    tables: { 'xbar start --workers N: server CPU (primary + hub + every worker) per delivered event / call': rows },
    info: {
      machine: placement.pinned
        ? `${placement.cpus} CPUs: the primary and every worker pinned to CPU ${placement.serverCpu}, the clients to CPU ${placement.clientCpu} — workers share one core here, so the figures are CPU cost, not scaling`
        : `${placement.cpus} CPUs, not pinned`,
      fanout: `1 publisher -> ${SUBSCRIBERS} subscribers, 128 B, <= 64 in flight; cross-worker: publisher on another worker than the subscribers`,
      mesh: `${MESH_CONNECTIONS} connections x ${MESH_RATE} events/s, 128 B; cross-worker: connection i on worker i mod 2 (every event crosses); peak: closed loop, spread over every worker`,
      rpc: `${CALLERS} callers x ${WINDOW} in flight to one callee; cross-worker: the callee on another worker`,
    },
  };
}
