/**
 * The node directory (issue 17, point 1) on real nats-server with Autobahn|JS clients: every node
 * lists the others' addresses (the ports really bound, or `cluster.advertise`), load and state
 * through `xbar.cluster.nodes`; `xbar.cluster.on_node_join` and `on_node_leave` reach a
 * subscriber on another node once each when a node process starts, is killed with SIGKILL, and
 * when a node stops cleanly. /stats.json shows the directory. One embedded node lists itself.
 */
import assert from 'node:assert/strict';
import autobahn from 'autobahn';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { XbarNode } from '../../src/node.js';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { clusterConfig, startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { realm, testConfig } from '../helpers/node.js';
import type { TransportConfig } from '../../src/config/types.js';
import { startXbarProcess, type XbarProcess } from '../helpers/xbar-process.js';

interface NodeRow {
  node: string;
  addresses: string[];
  state: string;
  sessions: number;
  connections: number;
  cpu_percent: number;
  queued_bytes: number;
  started_at: string;
  seen_at: string;
}

/** A web transport with only a stats path: not a WAMP endpoint, so not advertised. */
const OPS: TransportConfig = { type: 'web', id: 'ops', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, paths: new Map([['stats', { type: 'stats' }]]) };
const opsPort = (n: XbarNode) => n.addresses.find((a) => a.transport === 'ops')!.port!;

const urlsOf = (n: XbarNode) => [`ws://127.0.0.1:${n.port('web')}/ws`, `rs://127.0.0.1:${n.port('rawsocket')}`];
const rows = (v: unknown): NodeRow[] => (v instanceof autobahn.Result ? v.args[0] : v) as NodeRow[];
const byName = (list: NodeRow[]) => Object.fromEntries(list.map((r) => [r.node, r]));

describe('node directory on a NATS cluster', { timeout: 60_000 }, () => {
  let c: TestCluster;
  const open: AutobahnClient[] = [];
  let extra: XbarProcess | undefined;

  before(async () => {
    c = await startCluster(2, { extraTransports: [OPS] });
    await eventually(() => c.nodes.every((n) => n.backplane.directory().length === 2), 'both nodes in both directories');
  });
  after(async () => {
    await Promise.all(open.map((x) => x.close()));
    await extra?.kill('SIGKILL');
    await c.stop();
  });

  it('lists every node with the addresses it really listens on, its load and state', async () => {
    const client = await connectAutobahn(c.urls[0]!);
    open.push(client);
    const list = rows(await client.session.call('xbar.cluster.nodes'));
    assert.deepEqual(list.map((r) => r.node), ['x1', 'x2'], 'this node first');
    const [x1, x2] = list;
    assert.deepEqual(x1!.addresses, urlsOf(c.nodes[0]!));
    assert.deepEqual(x2!.addresses, urlsOf(c.nodes[1]!));
    assert.equal(x1!.state, 'ready');
    assert.equal(x1!.sessions, 1, 'the caller');
    assert.equal(x1!.connections, 1);
    for (const r of list) {
      assert.ok(Number.isFinite(r.cpu_percent) && r.cpu_percent >= 0);
      assert.ok(r.queued_bytes >= 0);
      assert.ok(Date.parse(r.seen_at) > 0 && Date.parse(r.started_at) > 0);
    }
    // Another node's load comes with its next heartbeat.
    const other = await connectAutobahn(c.urls[1]!);
    open.push(other);
    await eventually(async () => byName(rows(await client.session.call('xbar.cluster.nodes'))).x2?.sessions === 1, 'x2 advertising its session');
  });

  it('announces a node process that starts and one that is killed, once each, to a subscriber on another node', async () => {
    const watcher = await connectAutobahn(c.urls[1]!);
    open.push(watcher);
    const joins: NodeRow[] = [];
    const leaves: NodeRow[] = [];
    await watcher.session.subscribe('xbar.cluster.on_node_join', (args) => void joins.push(args![0] as NodeRow));
    await watcher.session.subscribe('xbar.cluster.on_node_leave', (args) => void leaves.push(args![0] as NodeRow));
    const cluster = c.nodes[0]!.config.cluster!;
    extra = await startXbarProcess({
      name: 'x3', natsUrls: cluster.servers, cluster: cluster.name,
      advertise: (_web, raw) => ['wss://x3.example.net/ws', `rs://127.0.0.1:${raw}`],
    });
    const joined = await eventually(() => joins.find((j) => j.node === 'x3'), 'the join of x3');
    assert.deepEqual(joined.addresses, ['wss://x3.example.net/ws', `rs://127.0.0.1:${extra.rawPort}`], 'cluster.advertise as configured');
    assert.equal(joined.state, 'ready');
    await eventually(async () => rows(await watcher.session.call('xbar.cluster.nodes')).length === 3, 'x3 in the directory');

    await extra.kill('SIGKILL');
    const left = await eventually(() => leaves.find((l) => l.node === 'x3'), 'the leave of x3');
    assert.deepEqual(left.addresses, joined.addresses);
    // Each node finds the silence itself: the one that told may have found it first.
    await eventually(async () => rows(await watcher.session.call('xbar.cluster.nodes')).map((r) => r.node).join() === 'x2,x1', 'x3 out of the directory');

    // A node that stops cleanly says bye: its leave comes at once.
    const x4 = new XbarNode({ ...testConfig(), cluster: clusterConfig(c.nats, cluster.name, { node: 'x4' }) }, { logger: pino({ level: 'silent' }) });
    await x4.start();
    await eventually(() => joins.find((j) => j.node === 'x4'), 'the join of x4');
    await x4.stop();
    await eventually(() => leaves.find((l) => l.node === 'x4'), 'the leave of x4');
    // Nothing twice, though two nodes could have told.
    assert.deepEqual(joins.map((j) => j.node), ['x3', 'x4']);
    assert.deepEqual(leaves.map((l) => l.node), ['x3', 'x4']);
  });

  it('shows the directory in /stats.json', async () => {
    const res = await fetch(`http://127.0.0.1:${opsPort(c.nodes[1]!)}/stats.json`);
    const nodes = ((await res.json()) as { backplane: { nodes: NodeRow[] } }).backplane.nodes;
    assert.deepEqual(nodes.map((n) => n.node), ['x2', 'x1']);
    assert.deepEqual(nodes[1]!.addresses, urlsOf(c.nodes[0]!));
  });
});

describe('node directory of one embedded node', () => {
  it('lists that node, and refuses a caller without call permission', async () => {
    const node = new XbarNode(testConfig({ realms: [realm('realm1'), realm('closed', [{ name: 'anonymous', permissions: [] }])] }), { logger: pino({ level: 'silent' }) });
    await node.start();
    try {
      const client = await connectAutobahn(`ws://127.0.0.1:${node.port('web')}/ws`);
      const list = rows(await client.session.call('xbar.cluster.nodes'));
      assert.deepEqual(list.map((r) => [r.node, r.addresses, r.state, r.sessions]), [[node.backplane.nodeId, urlsOf(node), 'ready', 1]]);
      await client.close();
      const outsider = await connectAutobahn(`ws://127.0.0.1:${node.port('web')}/ws`, { realm: 'closed' });
      await assert.rejects(outsider.session.call('xbar.cluster.nodes'), (e: autobahn.Error) => e.error === 'wamp.error.not_authorized');
      await outsider.close();
    } finally {
      await node.stop();
    }
  });
});
