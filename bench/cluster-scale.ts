/**
 * cluster-scale (`npm run bench -- cluster-scale`): what grows with nodes and realms (issue 17
 * point 7). One machine cannot run 100 nodes, so the bench measures 2, 4 and 8 real xbar node
 * processes over one real nats-server, each node with R realms (100 by default), and fits what
 * it measures to the model below, which it then extrapolates to 100 nodes × 1,000 realms.
 *
 * For each node count N, on a fresh nats-server (its counters from zero):
 * 1. idle: NATS client connections and subscriptions per node (`/connz`), and the cluster's
 *    background traffic in messages and bytes per second (`/varz`, 4 s): heartbeats, the leases
 *    of each node's session-id slots (JetStream KV puts and their acknowledgements) and the
 *    statistics events every node publishes every 5 s;
 * 2. interest: one subscriber per node in every realm (N × R WebSocket sessions, one topic per
 *    realm): NATS subscriptions per node again;
 * 3. events: a publisher on node 1 publishes to realm1's topic (a subscriber on every node);
 *    NATS messages in per publication and out per publication per interested node (the N − 1
 *    other nodes), every delivery checked.
 *
 * The model (design/cluster.md): one NATS connection per node whatever the realms; NATS
 * subscriptions per node = a fixed few + one per distinct (realm, URI, match) subscribed on that
 * node; one NATS message in per publication and one out per interested node; membership = one
 * heartbeat per node per interval, each delivered to every node (N² deliveries per interval in all,
 * N per node). Crossbar.io's router links, for comparison, are one link per realm per pair of
 * nodes: realms × N × (N − 1) / 2 WAMP sessions for a full mesh.
 */
import { NatsProcess } from './cluster-kit.js';
import { connectMany, debug, placement, round, type ScenarioResult, ServerChild, sleep, until } from './harness.js';
import { M, messageType, WampPeer } from './wamp-peer.js';

const NODE_COUNTS = (process.env.BENCH_SCALE_NODES ?? '2,4,8').split(',').map(Number);
const REALMS = Number(process.env.BENCH_SCALE_REALMS ?? 100);
const PUBLICATIONS = 2000;
const IDLE_MS = 4000;
const TOPIC = 'com.scale.t';
/** The nodes' heartbeat interval (bench/server.ts's cluster section). */
const HEARTBEAT_S = 1;

interface ScaleRow {
  nodes: number;
  nats_connections_per_node: number;
  nats_subs_per_node_idle: number;
  nats_subs_per_node_with_interest: number;
  membership_msgs_in_per_s: number;
  membership_msgs_out_per_s: number;
  membership_bytes_out_per_s: number;
  nats_in_per_publication: number;
  nats_out_per_publication_per_interested_node: number;
}

/** Connections and subscriptions of the xbar nodes (named by node id) on the nats-server. */
async function natsClients(nats: NatsProcess, nodes: number): Promise<{ connections: number; subs: number }> {
  const conns = (await nats.connz()).filter((c) => /^n\d+$/.test(c.name));
  if (conns.length < nodes) throw new Error(`nats-server lists ${conns.length} node connections, expected ${nodes}`);
  return { connections: conns.length / nodes, subs: conns.reduce((n, c) => n + c.subscriptions, 0) / nodes };
}

async function measure(n: number): Promise<ScaleRow> {
  const nats = await NatsProcess.start();
  const servers: ServerChild[] = [];
  const peers: WampPeer[] = [];
  try {
    // One at a time: eight node processes starting at once on the one server CPU exceed the start timeout.
    for (let i = 0; i < n; i++) {
      servers.push(await ServerChild.start('xbar', `scale-n${i + 1}`, ['--cluster', nats.url, '--node', `n${i + 1}`, '--realms', String(REALMS)]));
    }
    await until(async () => (await Promise.all(servers.map((s) => s.stats()))).every((s) => s['members'] === n),
      `all ${n} nodes to see each other`, 30_000, 100);
    await sleep(1500); // the join's burst of registry and membership traffic passes
    const idle = await natsClients(nats, n);
    const v0 = await nats.varz();
    const t0 = performance.now();
    await sleep(IDLE_MS);
    const v1 = await nats.varz();
    const s = (performance.now() - t0) / 1000;
    const membership = {
      in: (v1.in_msgs - v0.in_msgs) / s, out: (v1.out_msgs - v0.out_msgs) / s, outBytes: (v1.out_bytes - v0.out_bytes) / s,
    };
    debug(`cluster-scale: ${n} nodes idle ${JSON.stringify(membership)}`);

    // 2. a subscriber per node per realm
    let delivered = 0;
    const subscribers = await connectMany(n * REALMS, 8, async (i) => {
      const node = servers[i % n]!;
      const realm = `realm${Math.floor(i / n) + 1}`;
      const peer = await WampPeer.join(node.url, realm);
      peers.push(peer);
      await peer.subscribe(TOPIC);
      if (realm === 'realm1') peer.onHot = (b) => void (messageType(b) === M.EVENT && delivered++);
      return peer;
    });
    await sleep(500); // interest reaches NATS
    const interest = await natsClients(nats, n);

    // 3. events from node 1 to realm1's subscribers on every node
    const publisher = await WampPeer.join(servers[0]!.url, 'realm1');
    peers.push(publisher);
    const a = await nats.varz();
    const ta = performance.now();
    for (let i = 0; i < PUBLICATIONS; i++) {
      publisher.ws.send(`[${M.PUBLISH},${publisher.request()},{},"${TOPIC}",[${i}]]`);
      if (i % 100 === 99) await sleep(1);
    }
    await until(() => delivered >= PUBLICATIONS * n, `${PUBLICATIONS * n} events delivered (${delivered} so far)`, 30_000, 10);
    const b = await nats.varz();
    const heartbeats = { in: membership.in * ((performance.now() - ta) / 1000), out: membership.out * ((performance.now() - ta) / 1000) };
    if (delivered !== PUBLICATIONS * n) throw new Error(`delivered ${delivered}, expected ${PUBLICATIONS * n}`);
    void subscribers;
    return {
      nodes: n,
      nats_connections_per_node: round(idle.connections),
      nats_subs_per_node_idle: round(idle.subs),
      nats_subs_per_node_with_interest: round(interest.subs),
      membership_msgs_in_per_s: round(membership.in),
      membership_msgs_out_per_s: round(membership.out),
      membership_bytes_out_per_s: Math.round(membership.outBytes),
      nats_in_per_publication: round((b.in_msgs - a.in_msgs - heartbeats.in) / PUBLICATIONS),
      nats_out_per_publication_per_interested_node: round((b.out_msgs - a.out_msgs - heartbeats.out) / PUBLICATIONS / (n - 1)),
    };
  } finally {
    for (const p of peers) p.close();
    await Promise.all(servers.map((s) => s.stop()));
    await nats.stop();
  }
}

export async function clusterScale(): Promise<ScenarioResult> {
  const rows: ScaleRow[] = [];
  for (const n of NODE_COUNTS) rows.push(await measure(n));
  const last = rows.at(-1)!;
  // Fits of the model: membership deliveries per node per heartbeat, and subscriptions per realm.
  const outPerNodeSquared = round(last.membership_msgs_out_per_s * HEARTBEAT_S / (last.nodes * last.nodes));
  const bytesPerDelivery = Math.round(last.membership_bytes_out_per_s / Math.max(1, last.membership_msgs_out_per_s));
  const subsPerRealm = round((last.nats_subs_per_node_with_interest - last.nats_subs_per_node_idle) / REALMS);
  // Messages in while idle grow with realms on every node (each realm's statistics event goes to
  // NATS every 5 s whether or not another node listens): fitted per node per realm.
  const inPerNodePerRealm = last.membership_msgs_in_per_s / last.nodes / REALMS;
  const N = 100;
  const R = 1000;
  const extrapolated = {
    nats_connections_per_node: last.nats_connections_per_node,
    nats_subs_per_node: `${last.nats_subs_per_node_idle} + one per (realm, URI, match) subscribed on the node: ${round(last.nats_subs_per_node_idle + subsPerRealm * R)} with one topic in each of ${R} realms`,
    membership_msgs_out_per_s: round(outPerNodeSquared * N * N / HEARTBEAT_S),
    membership_msgs_out_per_s_per_node: round(outPerNodeSquared * N / HEARTBEAT_S),
    membership_bytes_out_per_s: Math.round(outPerNodeSquared * N * N * bytesPerDelivery / HEARTBEAT_S),
    background_msgs_in_per_s: Math.round(inPerNodePerRealm * N * R),
    nats_msgs_per_event: `1 in + 1 out per interested node (measured ${last.nats_in_per_publication} in, ${last.nats_out_per_publication_per_interested_node} out per interested node)`,
    crossbar_rlinks_full_mesh: R * N * (N - 1) / 2,
  };
  const perInterested = Math.max(...rows.map((r) => r.nats_out_per_publication_per_interested_node));
  const connections = Math.max(...rows.map((r) => r.nats_connections_per_node));
  const table: Record<string, Record<string, unknown>> = {};
  for (const r of rows) {
    const { nodes, ...rest } = r;
    table[`${nodes} nodes × ${REALMS} realms`] = rest;
  }
  return {
    scenario: 'cluster-scale',
    xbar: { rows, extrapolated_100_nodes_1000_realms: extrapolated, fit: { membership_out_per_n_squared: outPerNodeSquared, background_in_per_node_per_realm: round(inPerNodePerRealm), heartbeat_bytes_per_delivery: bytesPerDelivery, nats_subs_per_realm_with_one_topic: subsPerRealm } },
    baseline: { crossbar_rlinks: 'one router link per realm per pair of nodes' },
    ratio: { nats_out_per_publication_per_interested_node: perInterested, nats_connections_per_node: connections },
    target: { nats_out_per_publication_per_interested_node: '<= 1', nats_connections_per_node: '<= 1' },
    pass: perInterested <= 1.01 && connections === 1,
    tables: {
      [`cluster-scale: what grows with nodes (${REALMS} realms each, heartbeat ${HEARTBEAT_S} s)`]: table,
      [`extrapolated to ${N} nodes × ${R} realms (model fitted at ${last.nodes} nodes)`]: Object.fromEntries(
        Object.entries(extrapolated).map(([k, v]) => [k, { value: v }])),
    },
    info: { machine: placement.text, publications: PUBLICATIONS, idle_ms: IDLE_MS, realms: REALMS, node_counts: NODE_COUNTS },
  };
}
