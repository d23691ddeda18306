/**
 * fanout: 1 publisher → 1,000 subscribers on one topic, 128-byte payload.
 *
 * The publisher keeps at most WINDOW events in flight, counted as "not yet received by every
 * subscriber", so the run measures delivery throughput, not how fast buffers fill. Subscribers
 * count frames (no decoding) and every 256th frame is parsed and checked; after each run every
 * subscriber must have received every event.
 *
 * Baseline: the bare `ws` server relays the publisher's frame to every subscriber; the publisher
 * sends the bytes xbar's EVENT has (`[36,SUB,PUB,{},["…"]]`, 16-digit ids), so both servers
 * write the same number of same-sized frames.
 */
import {
  connectMany, type CpuSource, debug, Meter, medians, pairedRatio, rounds, type ScenarioResult, ServerChild, sleep, until,
} from './harness.js';
import { M, WAMP_JSON, WampPeer } from './wamp-peer.js';
import { BenchSocket } from './ws-client.js';

export const SUBSCRIBERS = 1000;
export const PAYLOAD = 'x'.repeat(128);
export const TOPIC = 'bench.fanout';
/** Events in flight (published, not yet received by all); refilled when half have arrived. */
const WINDOW = 64;
const RUN_MS = 1500;
/** Rounds (an xbar run and a baseline run): at least MIN, up to MAX until 3 were quiet. */
const MIN_ROUNDS = 4;
const MAX_ROUNDS = 5;
/** 16-digit ids, the length of xbar's random 53-bit subscription and publication ids. */
const BARE_SUBSCRIPTION = 7036874417766401;
const BARE_PUBLICATION = 5629499534213121;

/** Counts deliveries per subscriber and knows the newest event every subscriber has. */
export class Delivery {
  readonly counts = new Int32Array(SUBSCRIBERS);
  private readonly reached = new Int32Array(WINDOW * 2);
  /** Every subscriber has received events 1…complete. */
  complete = 0;
  /** Frames received, all subscribers together. */
  total = 0;
  badFrames = 0;
  onComplete: () => void = () => {};

  /** Subscriber `i` received one event (in order, as WAMP guarantees per publisher). */
  frame(i: number): void {
    const c = ++this.counts[i]!;
    this.total++;
    // The publisher keeps c - complete ≤ WINDOW, so a slot is never shared by two live counts.
    const slot = c % this.reached.length;
    if (++this.reached[slot]! === SUBSCRIBERS) {
      this.reached[slot] = 0;
      this.complete = c;
      this.onComplete();
    }
  }
}

export interface Rig {
  readonly label: string;
  /** Whose CPU the run measures: the server, or every process of a cluster. */
  readonly server: CpuSource;
  readonly delivery: Delivery;
  publish(): void;
  cork(): void;
  uncork(): void;
  close(): void;
}

/** Checks one frame fully: [36, subscription, publication, {}, [PAYLOAD]]. */
function checkEvent(payload: Buffer, subscription: number): boolean {
  const m = JSON.parse(payload.toString()) as unknown[];
  return m.length === 5 && m[0] === M.EVENT && m[1] === subscription && typeof m[2] === 'number'
    && JSON.stringify(m[3]) === '{}' && Array.isArray(m[4]) && m[4].length === 1 && m[4][0] === PAYLOAD;
}

export function subscriberHandler(d: Delivery, i: number, subscription: number): (payload: Buffer) => void {
  return (payload) => {
    // Cheap check on every frame ("[36,"), full check on every 256th.
    if (payload[1] !== 0x33 || payload[2] !== 0x36 || ((d.counts[i]! & 255) === 0 && !checkEvent(payload, subscription))) d.badFrames++;
    d.frame(i);
  };
}

export async function xbarRig(server: ServerChild): Promise<Rig> {
  const delivery = new Delivery();
  const subs = await connectMany(SUBSCRIBERS, 50, async (i) => {
    const peer = await WampPeer.join(server.url);
    const subscription = await peer.subscribe(TOPIC);
    peer.onHot = subscriberHandler(delivery, i, subscription);
    return peer;
  });
  const pub = await WampPeer.join(server.url);
  return {
    label: 'xbar', server, delivery,
    publish: () => pub.ws.send(`[${M.PUBLISH},${pub.request()},{},"${TOPIC}",["${PAYLOAD}"]]`),
    cork: () => pub.ws.cork(),
    uncork: () => pub.ws.uncork(),
    close: () => [...subs, pub].forEach((p) => p.close()),
  };
}

async function bareRig(server: ServerChild): Promise<Rig> {
  const delivery = new Delivery();
  const subs = await connectMany(SUBSCRIBERS, 50, async (i) => {
    const ws = await BenchSocket.connect(`${server.url}?sub=fanout`, WAMP_JSON);
    const handle = subscriberHandler(delivery, i, BARE_SUBSCRIPTION);
    ws.onFrame = (payload) => handle(payload);
    return ws;
  });
  const pub = await BenchSocket.connect(`${server.url}?pub=fanout`, WAMP_JSON);
  const event = Buffer.from(`[${M.EVENT},${BARE_SUBSCRIPTION},${BARE_PUBLICATION},{},["${PAYLOAD}"]]`);
  // The relay only starts forwarding once every subscriber's upgrade has been handled.
  await sleep(100);
  return {
    label: 'baseline', server, delivery,
    publish: () => pub.send(event),
    cork: () => pub.cork(),
    uncork: () => pub.uncork(),
    close: () => [...subs, pub].forEach((s) => s.destroy()),
  };
}

export type FanoutRun = {
  events_per_s: number; server_cpu_us_per_event: number; server_cpu_util: number; client_cpu_util: number; other_load: number;
};

/** Publishes with flow control for `ms`, then drains; checks every delivery. */
export async function run(rig: Rig, ms: number): Promise<FanoutRun> {
  const d = rig.delivery;
  let published = d.complete;
  let running = true;
  let lastAt = 0;
  const pump = (): void => {
    if (!running) {
      if (d.complete === published) lastAt = performance.now();
      return;
    }
    if (published - d.complete > WINDOW / 2) return;
    rig.cork();
    while (published < d.complete + WINDOW) {
      rig.publish();
      published++;
    }
    rig.uncork();
  };
  d.onComplete = pump;
  const meter = new Meter(rig.server);
  await meter.start();
  const total0 = d.total;
  pump();
  await sleep(ms);
  running = false;
  await until(() => d.complete === published, `${rig.label}: every subscriber to receive all ${published} events (some were lost)`, 10_000);
  const m = await meter.stop(lastAt);
  const events = d.total - total0;
  for (let i = 0; i < SUBSCRIBERS; i++) {
    if (d.counts[i] !== published) throw new Error(`${rig.label}: subscriber ${i} received ${d.counts[i]} of ${published} events`);
  }
  if (d.badFrames > 0) throw new Error(`${rig.label}: ${d.badFrames} frames were not the expected EVENT`);
  debug(`${rig.label} fanout run: ${events} events in ${m.seconds.toFixed(2)} s`);
  return {
    events_per_s: events / m.seconds,
    server_cpu_us_per_event: m.serverCpuMicros / events,
    server_cpu_util: m.serverUtil,
    client_cpu_util: m.clientUtil,
    other_load: m.otherLoad,
  };
}

export async function fanout(): Promise<ScenarioResult> {
  const xs = await ServerChild.start('xbar', 'fanout-xbar');
  const bs = await ServerChild.start('bare', 'fanout-bare');
  const rigs: Rig[] = [];
  try {
    const x = await xbarRig(xs);
    rigs.push(x);
    const b = await bareRig(bs);
    rigs.push(b);
    debug('fanout: clients connected');
    const stats = await xs.stats();
    if (stats['subscriptions'] !== 1 || stats['sessions'] !== SUBSCRIBERS + 1) {
      throw new Error(`xbar setup: expected 1 subscription and ${SUBSCRIBERS + 1} sessions, got ${JSON.stringify(stats)}`);
    }
    // Warm-up (JIT, socket buffers), not measured.
    await run(x, 500);
    await run(b, 500);
    const { series: [xr, br], quality } = await rounds([() => run(x, RUN_MS), () => run(b, RUN_MS)], MIN_ROUNDS, MAX_ROUNDS);
    if (!xr || !br) throw new Error('no runs');
    const xm = medians(xr);
    const bm = medians(br);
    const eventsRatio = pairedRatio(xr, br, 'events_per_s');
    return {
      scenario: 'fanout',
      xbar: { ...xm, runs: xr.map((r) => Math.round(r.events_per_s)) },
      baseline: { ...bm, runs: br.map((r) => Math.round(r.events_per_s)) },
      ratio: { events_per_s: eventsRatio, server_cpu_us_per_event: pairedRatio(xr, br, 'server_cpu_us_per_event') },
      target: { events_per_s: '>= 0.7' },
      pass: eventsRatio >= 0.7,
      info: {
        subscribers: SUBSCRIBERS, payload_bytes: PAYLOAD.length, window_events: WINDOW, run_ms: RUN_MS, ...quality,
        serializer: 'json', event_bytes_xbar_approx: 4 + 16 + 1 + 16 + 6 + PAYLOAD.length + 3,
      },
    };
  } finally {
    for (const r of rigs) r.close();
    await Promise.all([xs.stop(), bs.stop()]);
  }
}
