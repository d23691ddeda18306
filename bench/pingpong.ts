/**
 * pingpong: 1:1 round trips with a 3-byte payload, one at a time.
 *
 * xbar: A publishes on bench.ping; B, subscribed to it, publishes on bench.pong on each EVENT;
 * A, subscribed to bench.pong, times the round trip (two publishes and two events through the
 * router) and sends the next ping.
 * Baseline: the same two hops through the bare relay, with EVENT-shaped frames.
 */
import {
  latencySummary, Meter, medians, pairedRatio, rounds, type ScenarioResult, ServerChild,
} from './harness.js';
import { M, WAMP_JSON, WampPeer } from './wamp-peer.js';
import { BenchSocket } from './ws-client.js';

const PAYLOAD = 'abc';
const WARMUP = 2000;
const ROUNDS = 6000;
/** Rounds (an xbar run and a baseline run): at least MIN, up to MAX until 3 were quiet. */
const MIN_ROUNDS = 5;
const MAX_ROUNDS = 6;
/** Every received message must end like this (EVENT with empty details and the payload). */
const TAIL = Buffer.from(`,{},["${PAYLOAD}"]]`);
const BARE_EVENT = Buffer.from(`[${M.EVENT},7036874417766401,5629499534213121,{},["${PAYLOAD}"]]`);

interface Rig {
  readonly label: string;
  readonly server: ServerChild;
  /** Sends one ping from A. */
  ping(): void;
  /** Set by the runner: A received a pong. */
  onPong: () => void;
  bad: number;
  close(): void;
}

function isEcho(b: Buffer): boolean {
  return b[1] === 0x33 && b[2] === 0x36 && b.length > TAIL.length && b.subarray(b.length - TAIL.length).equals(TAIL);
}

export async function xbarRig(server: ServerChild): Promise<Rig> {
  const a = await WampPeer.join(server.url);
  const b = await WampPeer.join(server.url);
  await a.subscribe('bench.pong');
  await b.subscribe('bench.ping');
  const rig: Rig = {
    label: 'xbar', server, bad: 0,
    ping: () => a.ws.send(`[${M.PUBLISH},${a.request()},{},"bench.ping",["${PAYLOAD}"]]`),
    onPong: () => {},
    close: () => [a, b].forEach((p) => p.close()),
  };
  b.onHot = (payload) => {
    if (!isEcho(payload)) rig.bad++;
    b.ws.send(`[${M.PUBLISH},${b.request()},{},"bench.pong",["${PAYLOAD}"]]`);
  };
  a.onHot = (payload) => {
    if (!isEcho(payload)) rig.bad++;
    rig.onPong();
  };
  return rig;
}

export async function bareRig(server: ServerChild): Promise<Rig> {
  const a = await BenchSocket.connect(`${server.url}?sub=pong&pub=ping`, WAMP_JSON);
  const b = await BenchSocket.connect(`${server.url}?sub=ping&pub=pong`, WAMP_JSON);
  const rig: Rig = {
    label: 'baseline', server, bad: 0,
    ping: () => a.send(BARE_EVENT),
    onPong: () => {},
    close: () => [a, b].forEach((s) => s.destroy()),
  };
  b.onFrame = (payload) => {
    if (!isEcho(payload)) rig.bad++;
    b.send(BARE_EVENT);
  };
  a.onFrame = (payload) => {
    if (!isEcho(payload)) rig.bad++;
    rig.onPong();
  };
  return rig;
}

/** `rounds` sequential round trips; latencies in µs. */
export function roundTrips(rig: Rig, rounds: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const samples: number[] = [];
    let sentAt = 0;
    const timer = setTimeout(() => reject(new Error(`${rig.label}: round trips stalled after ${samples.length}`)), 60_000);
    rig.onPong = () => {
      samples.push((performance.now() - sentAt) * 1000);
      if (samples.length === rounds) {
        clearTimeout(timer);
        rig.onPong = () => {};
        resolve(samples);
        return;
      }
      sentAt = performance.now();
      rig.ping();
    };
    sentAt = performance.now();
    rig.ping();
  });
}

type PingRun = {
  p50_us: number; p99_us: number; max_us: number; server_cpu_us_per_rt: number; round_trips_per_s: number; client_cpu_util: number; other_load: number;
};

async function run(rig: Rig): Promise<PingRun> {
  const meter = new Meter(rig.server);
  await meter.start();
  const samples = await roundTrips(rig, ROUNDS);
  const m = await meter.stop();
  if (rig.bad > 0) throw new Error(`${rig.label}: ${rig.bad} replies were not the expected EVENT`);
  const s = latencySummary(samples);
  return {
    p50_us: s.p50_us, p99_us: s.p99_us, max_us: s.max_us,
    server_cpu_us_per_rt: m.serverCpuMicros / ROUNDS, round_trips_per_s: ROUNDS / m.seconds,
    client_cpu_util: m.clientUtil, other_load: m.otherLoad,
  };
}

export async function pingpong(): Promise<ScenarioResult> {
  const xs = await ServerChild.start('xbar', 'pingpong-xbar');
  const bs = await ServerChild.start('bare', 'pingpong-bare');
  const rigs: Rig[] = [];
  try {
    const x = await xbarRig(xs);
    rigs.push(x);
    const b = await bareRig(bs);
    rigs.push(b);
    await roundTrips(x, WARMUP);
    await roundTrips(b, WARMUP);
    const { series: [xr, br], quality } = await rounds([() => run(x), () => run(b)], MIN_ROUNDS, MAX_ROUNDS);
    if (!xr || !br) throw new Error('no runs');
    const r50 = pairedRatio(xr, br, 'p50_us');
    const r99 = pairedRatio(xr, br, 'p99_us');
    return {
      scenario: 'pingpong',
      xbar: medians(xr),
      baseline: medians(br),
      ratio: { p50_us: r50, p99_us: r99, server_cpu_us_per_rt: pairedRatio(xr, br, 'server_cpu_us_per_rt') },
      target: { p50_us: '<= 1.3', p99_us: '<= 1.3' },
      pass: r50 <= 1.3 && r99 <= 1.3,
      info: { payload_bytes: PAYLOAD.length, warmup: WARMUP, round_trips_per_run: ROUNDS, ...quality, hops_per_round_trip: 2, serializer: 'json' },
    };
  } finally {
    for (const r of rigs) r.close();
    await Promise.all([xs.stop(), bs.stop()]);
  }
}
