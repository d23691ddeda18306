/**
 * NATS loss (issue: scale-out, scope 4): three xbar nodes over a 3-server NATS cluster.
 * - One NATS server is killed: the nodes on it reconnect to another server and the cluster goes on
 *   (cross-node events and calls work again). An acknowledged publication is confirmed once a
 *   NATS server has it, and what a node missed while it reconnected is replayed from its
 *   publishers' recent frames: no acknowledged publication is lost between live sessions.
 * - Every NATS server is down: each node keeps serving its local sessions (local events and
 *   calls); cross-node traffic resumes when NATS returns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NatsBackplane } from '../../src/backplane/nats/nats-backplane.js';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';

describe('NATS server loss under a 3-node xbar cluster', { timeout: 90_000 }, () => {
  let c: TestCluster;
  const clients: AutobahnClient[] = [];
  before(async () => {
    c = await startCluster(3, { natsServers: 3 });
  });
  after(async () => {
    await Promise.all(clients.map((x) => x.close().catch(() => undefined)));
    await c.stop();
  });

  const serverOf = (i: number) => (c.nodes[i]!.backplane as NatsBackplane).server();

  it('keeps routing between nodes when one of three NATS servers is killed', async () => {
    const [pub, sub, callee] = await Promise.all([connectAutobahn(c.urls[0]!), connectAutobahn(c.urls[1]!), connectAutobahn(c.urls[2]!)]);
    clients.push(pub, sub, callee);
    await callee.session.register('com.nats.echo', (args) => args[0]);
    const seen = new Set<number>();
    await sub.session.subscribe('com.nats.tick', (args) => void seen.add(args[0] as number));
    // Kill the server the subscriber's node uses: the worst case for delivery.
    const victim = c.nats.find((s) => s.url === `nats://${serverOf(1)}` || serverOf(1)?.endsWith(`:${s.port}`))!;
    assert.ok(victim, `node 2 is on ${serverOf(1)}`);

    let n = 0;
    const acked: number[] = [];
    const publishSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const k = ++n;
        await pub.session.publish('com.nats.tick', [k], {}, { acknowledge: true });
        acked.push(k);
      }
    };
    await publishSome(200);
    await eventually(() => seen.size === 200, 'the first 200 events', 5000);
    const killedAt = Date.now();
    // A registration sent as its node's server dies is sent again on the new connection, once.
    const registering = Date.now();
    const [, , reg] = await Promise.all([victim.kill('SIGKILL'), publishSome(300), sub.session.register('com.nats.during', () => 'during')]);
    const registeredIn = Date.now() - registering;
    // The subscriber's node reconnects to a live server; then every publication arrives again.
    const waited = Date.now();
    await eventually(() => serverOf(1) !== undefined && !serverOf(1)!.endsWith(`:${victim.port}`), 'node 2 to reconnect', 10_000);
    const reconnected = Date.now() - waited;
    const before = n;
    await publishSome(200);
    await eventually(() => acked.filter((k) => k > before).every((k) => seen.has(k)), 'every publication after the reconnect', 5000);
    assert.equal(await callee.session.call('com.nats.echo', ['x']).then((r) => r), 'x');
    assert.equal(await pub.session.call('com.nats.echo', ['y']), 'y');
    assert.equal(await pub.session.call('com.nats.during'), 'during');
    await sub.session.unregister(reg);
    const lost = acked.filter((k) => !seen.has(k)).length;
    console.log(`# NATS server killed: node 2 reconnected in ${reconnected} ms (killed at +0), registered in ${registeredIn} ms; acknowledged publications not delivered across the reconnect: ${lost} of ${acked.length}`);
    assert.equal(lost, 0, 'acknowledged publications lost between live sessions');
    assert.ok(Date.now() - killedAt < 15_000);
    // The server returns; the next test starts from a whole cluster, once JetStream (re-electing
    // the registry's leader as the server catches up) takes registrations again.
    await victim.restart();
    const restarted = Date.now();
    await eventually(async () => {
      const reg = await callee.session.register('com.nats.probe', () => null).catch(() => undefined);
      if (reg) await callee.session.unregister(reg);
      return reg !== undefined;
    }, 'the registry to take registrations after the server returned', 60_000, 100);
    console.log(`# NATS server back: registrations taken again ${Date.now() - restarted} ms after it answered`);
  });

  it('serves local sessions while NATS is entirely down, and routes between nodes again when it returns', async () => {
    const [a1, a2, b] = await Promise.all([connectAutobahn(c.urls[0]!), connectAutobahn(c.urls[0]!), connectAutobahn(c.urls[1]!)]);
    clients.push(a1, a2, b);
    await a2.session.register('com.local.echo', (args) => args[0]);
    const local: unknown[] = [];
    const remote: unknown[] = [];
    await a2.session.subscribe('com.down.tick', (args) => void local.push(args[0]));
    await b.session.subscribe('com.down.tick', (args) => void remote.push(args[0]));

    await Promise.all(c.nats.map((s) => s.kill('SIGKILL')));
    await eventually(() => c.nodes.every((x) => x.backplane.health() !== 'ready'), 'every node to see NATS gone', 10_000);
    // Local traffic on node 1 goes on: events between its own sessions, calls to its own callee.
    for (let i = 0; i < 5; i++) a1.session.publish('com.down.tick', [`down${i}`]);
    await eventually(() => local.length === 5, 'local events while NATS is down', 5000);
    assert.equal(await a1.session.call('com.local.echo', ['still here']), 'still here');

    await Promise.all(c.nats.map((s) => s.restart()));
    const restarted = Date.now();
    await eventually(() => c.nodes.every((x) => x.backplane.health() === 'ready'), 'every node to reconnect', 20_000);
    const back = Date.now() - restarted;
    // Cross-node events flow again (subscriptions were re-established by the NATS client).
    let k = 0;
    await eventually(async () => {
      await a1.session.publish('com.down.tick', [`up${++k}`], {}, { acknowledge: true });
      return remote.some((x) => String(x).startsWith('up'));
    }, 'cross-node events after NATS returned', 10_000);
    // Published while NATS was down: delivered on node 1 at once; elsewhere only if the receiving
    // node's replay found the publisher already back (best effort, documented in the README).
    console.log(`# NATS down and back: nodes ready ${back} ms after the restart; node 2 got ${remote.filter((x) => String(x).startsWith('down')).length} of 5 events published while NATS was down`);
  });
});
