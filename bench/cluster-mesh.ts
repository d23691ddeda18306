/**
 * The mesh of the cluster bench (the shape of the published CrossbarFX cluster test): MESH_CONNECTIONS
 * connections, connection i publishing 128-byte events to its own topic and subscribed to
 * connection i+1's, spread over the given nodes (connection i on node i mod N). Runs at a fixed
 * rate per connection or closed-loop; latency from the send time carried in the payload; after
 * each run every event must have arrived.
 */
import { type NatsCounter } from './cluster-kit.js';
import { connectMany, type CpuSource, debug, latencySummary, Meter, until } from './harness.js';
import { M, WampPeer } from './wamp-peer.js';

/** Mesh connections (divisible by 1, 2 and 3, so every node gets as many). */
export const MESH_CONNECTIONS = 48;
/** Events a mesh publisher may have in flight in the peak runs. */
export const MESH_WINDOW = 8;
export const EVENT_BYTES = 128;

interface MeshConn {
  readonly peer: WampPeer;
  readonly topic: string;
  sent: number;
  received: number;
}

export type MeshRun = {
  delivered_per_s: number; p50_us: number; p99_us: number; server_cpu_us_per_event: number;
  nats_in_per_event: number; nats_out_per_event: number; server_cpu_util: number; client_cpu_util: number; other_load: number;
};

/** One mesh of MESH_CONNECTIONS connections spread over `urls` (connection i on urls[i % n]). */
export class Mesh {
  private readonly conns: MeshConn[] = [];
  private samples: number[] = [];
  private measuring = false;
  /** Closed loop: called when connection `publisher`'s neighbour received one of its events. */
  private onDelivered: ((publisher: number) => void) | undefined;

  constructor(readonly label: string, private readonly cpu: CpuSource, private readonly nats: NatsCounter | undefined) {}

  /** `urls`: connection i joins urls[i mod n]; or `join(i)` joins connection i where it must be. */
  async connect(tag: string, urls: readonly string[] | ((i: number) => Promise<WampPeer>)): Promise<void> {
    const c = MESH_CONNECTIONS;
    const join = typeof urls === 'function' ? urls : (i: number) => WampPeer.join(urls[i % urls.length]!);
    const peers = await connectMany(c, 16, join);
    peers.forEach((peer, i) => this.conns.push({ peer, topic: `bench.mesh.${tag}.${i}`, sent: 0, received: 0 }));
    await Promise.all(this.conns.map(async (conn, j) => {
      const publisher = (j + 1) % c;
      await conn.peer.subscribe(this.conns[publisher]!.topic);
      conn.peer.onHot = (payload, type) => {
        if (type !== M.EVENT) return;
        conn.received++;
        if (this.measuring) this.samples.push(latencyMicros(payload));
        this.onDelivered?.(publisher);
      };
    }));
  }

  private publish(i: number): void {
    const conn = this.conns[i]!;
    const stamp = performance.now().toFixed(3);
    const arg = `${stamp}|`.padEnd(EVENT_BYTES, 'x');
    conn.peer.ws.send(`[${M.PUBLISH},${conn.peer.request()},{},"${conn.topic}",["${arg}"]]`);
    conn.sent++;
  }

  /** The subscriber of connection i's topic. */
  private neighbourOf(i: number): MeshConn {
    return this.conns[(i - 1 + this.conns.length) % this.conns.length]!;
  }

  private received(): number {
    return this.conns.reduce((a, c) => a + c.received, 0);
  }

  /** Fixed rate: each connection publishes `rate`/s, staggered, for `ms`. */
  paced(rate: number, ms: number): Promise<MeshRun> {
    return this.measure(ms, (stop) => {
      const c = this.conns.length;
      const base = this.conns.map((x) => x.sent);
      const t0 = performance.now();
      const timer = setInterval(() => {
        const elapsed = performance.now() - t0;
        if (elapsed >= ms) {
          clearInterval(timer);
          return stop();
        }
        for (let i = 0; i < c; i++) {
          const conn = this.conns[i]!;
          const due = Math.floor((elapsed * rate) / 1000 + i / c) - (conn.sent - base[i]!);
          if (due <= 0) continue;
          conn.peer.ws.cork();
          for (let k = 0; k < due; k++) this.publish(i);
          conn.peer.ws.uncork();
        }
      }, 1);
    });
  }

  /** Closed loop: each publisher keeps ≤ MESH_WINDOW events not yet received by its neighbour. */
  peak(ms: number): Promise<MeshRun> {
    return this.measure(ms, (stop) => {
      let running = true;
      const pump = (i: number): void => {
        if (!running) return;
        const neighbour = this.neighbourOf(i);
        const conn = this.conns[i]!;
        if (conn.sent - neighbour.received > MESH_WINDOW / 2) return;
        conn.peer.ws.cork();
        while (conn.sent - neighbour.received < MESH_WINDOW) this.publish(i);
        conn.peer.ws.uncork();
      };
      this.onDelivered = pump;
      for (let i = 0; i < this.conns.length; i++) pump(i);
      setTimeout(() => {
        running = false;
        this.onDelivered = undefined;
        stop();
      }, ms);
    });
  }

  /** Runs `load` (which calls `stop` when it has sent its last event), drains, checks, measures. */
  private async measure(ms: number, load: (stop: () => void) => void): Promise<MeshRun> {
    const meter = new Meter(this.cpu);
    const nats0 = await this.nats?.read();
    await meter.start();
    const received0 = this.received();
    this.samples = [];
    this.measuring = true;
    await new Promise<void>((resolve) => load(resolve));
    await until(() => this.conns.every((c, i) => this.neighbourOf(i).received === c.sent), `${this.label}: every mesh event to arrive`, 10_000);
    const lastAt = performance.now();
    this.measuring = false;
    const m = await meter.stop(lastAt);
    const events = this.received() - received0;
    if (events === 0) throw new Error(`${this.label}: no mesh event delivered`);
    const s = latencySummary(this.samples);
    const nats = nats0 ? await this.nats!.since(nats0, events) : { in: 0, out: 0 };
    debug(`${this.label} mesh run (${ms} ms): ${events} events, ${(events / m.seconds).toFixed(0)}/s, p50 ${s.p50_us} p99 ${s.p99_us} µs`);
    return {
      delivered_per_s: events / m.seconds, p50_us: s.p50_us, p99_us: s.p99_us,
      server_cpu_us_per_event: m.serverCpuMicros / events, nats_in_per_event: nats.in, nats_out_per_event: nats.out,
      server_cpu_util: m.serverUtil, client_cpu_util: m.clientUtil, other_load: m.otherLoad,
    };
  }

  close(): void {
    for (const c of this.conns) c.peer.close();
  }
}

/** Send time in the payload (`…,["12345.678|<padding>"]]`) → µs until now. */
function latencyMicros(payload: Buffer): number {
  const start = payload.lastIndexOf('["') + 2;
  const end = payload.indexOf('|', start);
  return (performance.now() - Number(payload.toString('latin1', start, end))) * 1000;
}

