/**
 * cluster (`npm run bench -- --cluster`): xbar nodes over a real NATS backplane (issue 6).
 *
 * Processes: one nats-server (JetStream, monitoring port), three xbar nodes of one cluster and a
 * standalone xbar node (no `cluster` section) as server children, all on free loopback ports.
 * Everything runs on this one 2-core machine: the server side (every xbar node and the
 * nats-server) is pinned to CPU 0, the clients to CPU 1 — so more nodes cannot mean more CPU
 * here; the figures show what clustering costs, not how it scales.
 *
 * 1. mesh (`cluster-mesh.ts`), the shape of the published CrossbarFX cluster test: C connections, connection i
 *    publishes 128-byte events to its own topic and subscribes to connection i+1's. Connection i
 *    sits on node i mod N, so with N ≥ 2 every event crosses to another node. Standalone node,
 *    1 clustered node (peers idle), 2 nodes, 3 nodes; first at a fixed rate per connection
 *    (latency from the send time carried in the payload), then closed-loop peak (each
 *    publisher keeps ≤ WINDOW events not yet received by its neighbour).
 * 2. fan-out 1 → 1,000 subscribers (the fanout scenario's workload) with the subscribers on node
 *    2, published from node 1 (cross-node) and from node 2 (same node), runs alternating.
 *    Target (issue 17): cross-node events/s ≥ 0.9 × same-node.
 * 3. NATS messages per publication and per delivered event, from nats-server's `/varz`
 *    (in_msgs, out_msgs) read before and after every run. Target: out_msgs per publication ≤
 *    the number of interested nodes (1 in the cross-node fan-out and in the mesh).
 *
 * Every delivery is checked: after each run every subscriber has every event, or the bench fails.
 */
import { NatsCounter, NatsProcess } from './cluster-kit.js';
import { EVENT_BYTES, Mesh, MESH_CONNECTIONS, MESH_WINDOW, type MeshRun } from './cluster-mesh.js';
import { Delivery, PAYLOAD, type Rig, run as fanoutRun, subscriberHandler, SUBSCRIBERS, TOPIC } from './fanout.js';
import {
  connectMany, CpuGroup, type CpuSource, debug, median, medians, pairedRatio, placement, ratio, round, rounds,
  type ScenarioResult, ServerChild, until,
} from './harness.js';
import { M, WampPeer } from './wamp-peer.js';

const NODES = 3;
/** Events/s each mesh connection publishes in the fixed-rate runs (BENCH_MESH_RATE overrides). */
const MESH_RATE = Number(process.env.BENCH_MESH_RATE ?? 200);
const MESH_PACED_MS = 2000;
const MESH_PEAK_MS = 1500;
const FANOUT_MS = 1500;
const ROUNDS = 3;
const MACHINE = placement.pinned
  ? 'all on one 2-core machine: every xbar node and the nats-server share CPU 0, the clients CPU 1 (nodes cannot add CPU here: the figures show what clustering costs, not how it scales)'
  : 'all on one machine, not pinned (taskset unavailable): xbar nodes, nats-server and clients share its CPUs';

type FanoutClusterRun = {
  events_per_s: number; server_cpu_us_per_event: number; nats_in_per_publication: number; nats_out_per_publication: number;
  server_cpu_util: number; client_cpu_util: number; other_load: number;
};

/** A fanout run (bench/fanout.ts) with NATS messages per publication around it. */
async function fanoutClusterRun(rig: Rig, nats: NatsCounter, ms: number): Promise<FanoutClusterRun> {
  const a = await nats.read();
  const complete0 = rig.delivery.complete;
  const r = await fanoutRun(rig, ms);
  const n = await nats.since(a, rig.delivery.complete - complete0);
  return { ...r, nats_in_per_publication: n.in, nats_out_per_publication: n.out };
}

export async function cluster(): Promise<ScenarioResult> {
  const started = performance.now();
  const natsServer = await NatsProcess.start();
  const nats = new NatsCounter(natsServer);
  const servers: ServerChild[] = [];
  const meshes: Mesh[] = [];
  const closers: (() => void)[] = [];
  try {
    const nodes = await Promise.all(Array.from({ length: NODES }, (_, i) =>
      ServerChild.start('xbar', `cluster-n${i + 1}`, ['--cluster', natsServer.url, '--node', `n${i + 1}`])));
    servers.push(...nodes);
    const standalone = await ServerChild.start('xbar', 'cluster-standalone');
    servers.push(standalone);
    await until(async () => (await Promise.all(nodes.map((n) => n.stats()))).every((s) => s['members'] === NODES),
      `all ${NODES} nodes to see each other`, 15_000, 100);
    const clusterCpu = new CpuGroup([...nodes, natsServer]);
    await nats.calibrate(1000);
    debug(`cluster: nats-server and ${NODES} nodes up in ${((performance.now() - started) / 1000).toFixed(1)} s; idle NATS ${JSON.stringify(nats.idle)} msgs/s`);

    // 1. mesh
    const shapes: [label: string, tag: string, on: ServerChild[], cpu: CpuSource, nats: NatsCounter | undefined][] = [
      ['standalone node', 's', [standalone], standalone, undefined],
      ['1 node (clustered)', 'c1', nodes.slice(0, 1), clusterCpu, nats],
      ['2 nodes', 'c2', nodes.slice(0, 2), clusterCpu, nats],
      ['3 nodes', 'c3', nodes, clusterCpu, nats],
    ];
    for (const [label, tag, on, cpu, n] of shapes) {
      const mesh = new Mesh(label, cpu, n);
      meshes.push(mesh);
      await mesh.connect(tag, on.map((s) => s.url));
    }
    debug('cluster: mesh clients connected');
    for (const mesh of meshes) await mesh.paced(MESH_RATE, 500); // warm-up
    const paced = await rounds(meshes.map((mesh) => () => mesh.paced(MESH_RATE, MESH_PACED_MS)), ROUNDS, ROUNDS + 1);
    const peak = await rounds(meshes.map((mesh) => () => mesh.peak(MESH_PEAK_MS)), ROUNDS, ROUNDS + 1);
    for (const m of meshes) m.close();
    meshes.length = 0;

    // 2. fan-out, subscribers on node 2; published from node 1 (cross-node) or node 2 (same node)
    const delivery = new Delivery();
    const subs = await connectMany(SUBSCRIBERS, 50, async (i) => {
      const peer = await WampPeer.join(nodes[1]!.url);
      peer.onHot = subscriberHandler(delivery, i, await peer.subscribe(TOPIC));
      return peer;
    });
    closers.push(() => subs.forEach((p) => p.close()));
    const rig = async (label: string, node: ServerChild): Promise<Rig> => {
      const pub = await WampPeer.join(node.url);
      closers.push(() => pub.close());
      return {
        label, server: clusterCpu, delivery,
        publish: () => pub.ws.send(`[${M.PUBLISH},${pub.request()},{},"${TOPIC}",["${PAYLOAD}"]]`),
        cork: () => pub.ws.cork(),
        uncork: () => pub.ws.uncork(),
        close: () => pub.close(),
      };
    };
    const cross = await rig('fan-out cross-node', nodes[0]!);
    const same = await rig('fan-out same node', nodes[1]!);
    debug('cluster: fan-out clients connected');
    await fanoutClusterRun(cross, nats, 500);
    await fanoutClusterRun(same, nats, 500);
    const fan = await rounds([() => fanoutClusterRun(cross, nats, FANOUT_MS), () => fanoutClusterRun(same, nats, FANOUT_MS)], ROUNDS, ROUNDS + 1);
    return report(
      { paced: paced.series, peak: peak.series, cross: fan.series[0]!, same: fan.series[1]!, labels: shapes.map((s) => s[0]) },
      { mesh_paced: paced.quality, mesh_peak: peak.quality, fanout: fan.quality },
      nats.idle,
    );
  } finally {
    for (const m of meshes) m.close();
    for (const c of closers) c();
    await Promise.all(servers.map((s) => s.stop()));
    await natsServer.stop();
  }
}

interface Series {
  readonly paced: MeshRun[][];
  readonly peak: MeshRun[][];
  readonly cross: FanoutClusterRun[];
  readonly same: FanoutClusterRun[];
  readonly labels: readonly string[];
}

function report(s: Series, quality: Record<string, unknown>, idle: { in: number; out: number }): ScenarioResult {
  const mesh: Record<string, unknown> = {};
  const meshRows: Record<string, Record<string, unknown>> = {};
  const meshRow = (r: Record<keyof MeshRun, number>): Record<string, unknown> => ({
    delivered_per_s: r.delivered_per_s, p50_us: r.p50_us, p99_us: r.p99_us, server_cpu_us_per_event: r.server_cpu_us_per_event,
    server_cpu_util: r.server_cpu_util, nats_in_per_event: r.nats_in_per_event, nats_out_per_event: r.nats_out_per_event, other_load: r.other_load,
  });
  s.labels.forEach((label, i) => {
    const p = medians(s.paced[i]!);
    mesh[label] = { paced: p, peak: medians(s.peak[i]!) };
    meshRows[`${MESH_RATE}/s each: ${label}`] = meshRow(p);
  });
  s.labels.forEach((label, i) => {
    meshRows[`peak, window ${MESH_WINDOW}: ${label}`] = meshRow(medians(s.peak[i]!));
  });
  const cm = medians(s.cross);
  const sm = medians(s.same);
  const fanRow = (m: FanoutClusterRun): Record<string, unknown> => ({
    events_per_s: m.events_per_s, server_cpu_us_per_event: m.server_cpu_us_per_event, server_cpu_util: m.server_cpu_util,
    nats_in_per_publication: m.nats_in_per_publication, nats_out_per_publication: m.nats_out_per_publication, other_load: m.other_load,
  });
  const fanRatio = pairedRatio(s.cross, s.same, 'events_per_s');
  const fanRows: Record<string, Record<string, unknown>> = {
    'subscribers on the publisher\'s node': fanRow(sm),
    'subscribers on another node': fanRow(cm),
    'ratio cross-node / same node': { events_per_s: fanRatio, server_cpu_us_per_event: pairedRatio(s.cross, s.same, 'server_cpu_us_per_event') },
  };
  const three = s.labels.length - 1;
  const meshOut = round(median(s.paced[three]!.map((r) => r.nats_out_per_event)));
  const fanOut = round(median(s.cross.map((r) => r.nats_out_per_publication)));
  const peakOf = (i: number): number => median(s.peak[i]!.map((r) => r.delivered_per_s));
  return {
    scenario: 'cluster',
    xbar: { mesh, fanout_cross_node: cm },
    baseline: { fanout_same_node: sm },
    ratio: {
      fanout_cross_over_same: fanRatio,
      fanout_nats_out_per_publication: fanOut,
      mesh_3_nodes_nats_out_per_event: meshOut,
      mesh_peak_3_nodes_over_standalone: ratio(peakOf(three) / peakOf(0)),
    },
    target: {
      fanout_cross_over_same: '>= 0.9',
      // One interested node (the subscribers' node 2): at most one NATS delivery per publication.
      fanout_nats_out_per_publication: '<= 1',
      // Each event has one interested node (its neighbour's).
      mesh_3_nodes_nats_out_per_event: '<= 1',
    },
    pass: fanRatio >= 0.9 && fanOut <= 1 && meshOut <= 1,
    tables: {
      [`cluster mesh: ${MESH_CONNECTIONS} connections, ${EVENT_BYTES} B events`]: meshRows,
      [`cluster fan-out 1→${SUBSCRIBERS}`]: fanRows,
    },
    info: {
      machine: MACHINE,
      nats: 'one nats-server 2.9 (JetStream) on loopback; NATS counts from /varz less idle traffic',
      nats_idle_msgs_per_s: { in: round(idle.in), out: round(idle.out) },
      mesh_connections: MESH_CONNECTIONS, mesh_rate_per_connection: MESH_RATE, mesh_window: MESH_WINDOW, event_bytes: EVENT_BYTES,
      mesh_placement: 'connection i on node i mod N; it publishes to its own topic and subscribes to connection i+1\'s (another node when N >= 2)',
      fanout: `1 publisher -> ${SUBSCRIBERS} subscribers on node 2; publisher on node 1 (cross-node) or node 2 (same node); <= 64 events in flight`,
      server_cpu: 'clustered rows: CPU of all 3 nodes and the nats-server; standalone row: that node only',
      rounds: quality,
    },
  };
}
