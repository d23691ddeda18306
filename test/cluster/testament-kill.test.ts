/**
 * Testaments survive the node (issue: meta API, acceptance "testament fires … on kill -9 of the
 * node the session was on"): a session on node x1 leaves a testament; x1 is killed with SIGKILL;
 * a subscriber on x2 receives the testament once the cluster has declared x1 dead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { startXbarProcess, type XbarProcess } from '../helpers/xbar-process.js';
import { eventually } from '../helpers/eventually.js';

const DEAD_AFTER = 1000;

describe('testaments when a node dies', { timeout: 60_000 }, () => {
  let nats: NatsServer[];
  let nodes: XbarProcess[];
  const clients: AutobahnClient[] = [];
  before(async () => {
    nats = await startNats(1);
    const cluster = `tk${process.pid}`;
    nodes = await Promise.all(['x1', 'x2'].map((name) => startXbarProcess({ name, natsUrls: [nats[0]!.url], cluster, deadAfterMs: DEAD_AFTER })));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
    await stopNats(nats);
  });

  it('publishes the testament of a session whose node was killed, once, to a subscriber on another node', async () => {
    const device = await connectAutobahn(nodes[0]!.url, { serializer: 'cbor' });
    const watcher = await connectAutobahn(nodes[1]!.url, { serializer: 'msgpack' });
    clients.push(watcher);
    const got: unknown[][] = [];
    await watcher.session.subscribe('com.lab.presence', (args) => void got.push(args));
    await device.session.call('wamp.session.add_testament', ['com.lab.presence', ['rig 7 offline', new Uint8Array([7])], {}]);
    // The copy is written to the cluster asynchronously; a marker round trip through node 1 lets it land.
    await device.session.call('wamp.session.count');
    const killed = Date.now();
    await nodes[0]!.kill('SIGKILL');
    await eventually(() => got.length > 0, 'the testament', 10_000);
    const after = Date.now() - killed;
    assert.equal(got.length, 1, 'the testament arrived');
    assert.equal(got[0]![0], 'rig 7 offline');
    assert.deepEqual(new Uint8Array(got[0]![1] as Uint8Array), new Uint8Array([7]));
    console.log(`# testament of a killed node's session published ${after} ms after kill -9 (dead-after ${DEAD_AFTER} ms)`);
    assert.ok(after < DEAD_AFTER + 2000, `published ${after} ms after the kill`);
    // Only once: a later event on the same topic comes next.
    const w = watcher.session;
    await w.publish('com.lab.presence', ['marker'], {}, { acknowledge: true, exclude_me: false });
    await eventually(() => got.length >= 2, 'the marker');
    assert.deepEqual(got.map((a) => a[0]), ['rig 7 offline', 'marker']);
  });
});
