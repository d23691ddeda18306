/**
 * A partition (issue 17, point 5): three xbar nodes over a three-server NATS cluster; x3 uses only
 * n3, which is paused (SIGSTOP), so x3 is cut off from NATS while its clients still reach it. The
 * others take x3 for dead and reap it; x3 serves its local sessions meanwhile. After the heal
 * (SIGCONT): no single registration is held twice (the one made on x1 during the partition wins,
 * x3's callee is revoked), no testament is published twice, no call is answered twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { eventually } from '../helpers/eventually.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { M, RawPeer, type Msg } from '../helpers/raw-rpc.js';
import { startXbarProcess, type XbarProcess } from '../helpers/xbar-process.js';

const DEAD_AFTER = 1000;

/** A callee that answers every invocation with `name`, except the first of registration `hold` (kept in `held`). */
function autoYield(peer: RawPeer, name: string, hold = 0, held: Msg[] = []): void {
  peer.listener = (m) => {
    if (m[0] !== M.INVOCATION) return false;
    if (m[2] === hold && held.length === 0) held.push(m);
    else peer.yield(m[1] as number, [name]);
    return true;
  };
}

const ready = async (n: XbarProcess) => (await fetch(`http://127.0.0.1:${n.webPort}/health/ready`)).status;

describe('a node cut off from NATS while its clients reach it, and the heal', { timeout: 120_000 }, () => {
  let nats: NatsServer[];
  let nodes: XbarProcess[];
  const peers: RawPeer[] = [];
  const clients: AutobahnClient[] = [];
  before(async () => {
    nats = await startNats(3);
    const cluster = `pt${process.pid}`;
    const [n1, n2, n3] = nats.map((s) => s.url);
    nodes = [];
    for (const [name, urls] of [['x1', [n1!, n2!]], ['x2', [n2!, n1!]], ['x3', [n3!]]] as const) {
      nodes.push(await startXbarProcess({ name, natsUrls: urls, cluster, deadAfterMs: DEAD_AFTER }));
    }
  });
  after(async () => {
    nats[2]?.process.kill('SIGCONT');
    await Promise.all(peers.map((p) => p.kill().catch(() => undefined)));
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
    await stopNats(nats);
  });

  it('keeps one single registration, publishes each testament once and answers each call once', async () => {
    const [x1, , x3] = nodes as [XbarProcess, XbarProcess, XbarProcess];
    const calleeX3 = await RawPeer.connect(x3.url);
    const callerX3 = await RawPeer.connect(x3.url);
    const callerX1 = await RawPeer.connect(x1.url);
    const calleeX1 = await RawPeer.connect(x1.url);
    peers.push(calleeX3, callerX3, callerX1, calleeX1);
    const held: Msg[] = [];
    const slowReg = await calleeX3.register('com.part.slow');
    autoYield(calleeX3, 'x3', slowReg, held);
    autoYield(calleeX1, 'x1');
    const singleReg = await calleeX3.register('com.part.single');
    await eventually(async () => (await callerX1.callAndWait('com.part.single'))[0] === M.RESULT, 'x1 reaches x3\'s callee');

    const device = await connectAutobahn(x3.url);
    const watcher = await connectAutobahn(x1.url);
    clients.push(watcher);
    const presence: unknown[] = [];
    await watcher.session.subscribe('com.part.presence', (args) => void presence.push(args[0]));
    await device.session.call('wamp.session.add_testament', ['com.part.presence', ['device on x3 gone'], {}]);
    await device.session.call('wamp.session.count');

    // A call from x1 to x3's callee is under way when x3 is cut off.
    const slowCall = callerX1.call('com.part.slow');
    await eventually(() => held.length === 1, 'the slow invocation on x3');

    const reaps = () => x1.output().split('reaped the registrations of a lost node').length;
    const reapsBefore = reaps();
    nats[2]!.process.kill('SIGSTOP');
    const cut = Date.now();
    await eventually(() => reaps() > reapsBefore, 'x1 to reap x3', 15_000);
    console.log(`# n3 paused: x1 reaped x3 after ${Date.now() - cut} ms`);

    // The call in flight gets its one answer: canceled, because its callee's node is lost.
    const answer = await callerX1.answer(slowCall, 5000);
    assert.equal(answer[0], M.ERROR);
    assert.equal(answer[4], 'wamp.error.canceled');
    // The reaper published the testament of x3's session (its node is taken for dead).
    await eventually(() => presence.includes('device on x3 gone'), 'the testament from the reaper', 5000);
    // The majority registers the single procedure x3's callee held (JetStream may elect a new leader first).
    await eventually(() => calleeX1.register('com.part.single', {}).then(() => true, () => false), 'x1 registers com.part.single', 20_000, 500);
    assert.deepEqual((await callerX1.callAndWait('com.part.single')).slice(3), [['x1']]);

    // x3 is cut off: it serves its own sessions, and says it is not ready.
    assert.deepEqual((await callerX3.callAndWait('com.part.single')).slice(3), [['x3']], 'x3 serves its local callee');
    await eventually(async () => (await ready(x3)) === 503, 'x3 /health/ready 503 while cut off', 15_000);

    nats[2]!.process.kill('SIGCONT');
    const healed = Date.now();
    await eventually(async () => (await ready(x3)) === 200, 'x3 ready again', 30_000);
    // x3's callee of the single registration is revoked: the registration made on x1 wins everywhere.
    const revoked = await calleeX3.next((m) => m[0] === M.UNREGISTERED && m[1] === 0, 20_000);
    assert.equal((revoked[2] as { registration: number }).registration, singleReg);
    await eventually(async () => ((await callerX3.callAndWait('com.part.single'))[3] as unknown[] | undefined)?.[0] === 'x1', 'x3 routes to x1\'s callee', 10_000);
    console.log(`# n3 resumed: x3 ready and its duplicate single registration revoked ${Date.now() - healed} ms after the heal`);
    for (let i = 0; i < 10; i++) {
      assert.deepEqual((await callerX3.callAndWait('com.part.single')).slice(3), [['x1']]);
      assert.deepEqual((await callerX1.callAndWait('com.part.single')).slice(3), [['x1']]);
    }
    // x3's other callee is registered again and callable from x1; the late answer to the
    // canceled call is dropped: the caller had one answer for it.
    calleeX3.yield(held[0]![1] as number, ['late']);
    await eventually(async () => ((await callerX1.callAndWait('com.part.slow', [], undefined, {}, 3000).catch(() => undefined))?.[3] as unknown[] | undefined)?.[0] === 'x3',
      'x1 reaches x3\'s com.part.slow again', 10_000);
    const answers = callerX1.log.filter((m) => (m[0] === M.RESULT && m[1] === slowCall) || (m[0] === M.ERROR && m[1] === M.CALL && m[2] === slowCall));
    assert.equal(answers.length, 1, 'one answer for the call in flight');

    // The device's session ends after the heal: its testament is not published a second time.
    await device.close();
    await eventually(async () => {
      await watcher.session.publish('com.part.presence', ['marker'], {}, { acknowledge: true, exclude_me: false });
      return presence.includes('marker');
    }, 'the marker');
    assert.deepEqual(presence.slice(0, presence.indexOf('marker')), ['device on x3 gone']);
  });
});
