/**
 * A partition (issue 17, point 5): three xbar nodes over a three-server NATS cluster whose
 * servers advertise no other server to clients, so each node stays on the servers it was given;
 * x3 has only n3. n3 is paused (SIGSTOP): x3 is cut off from NATS while its clients still reach
 * it. x1 and x2 keep a JetStream quorum (the buckets are R3, `cluster.nats.replicas`), take x3 for
 * dead and reap it; x3 serves its own sessions meanwhile. After the heal (SIGCONT) no single
 * registration is held twice, no testament is published twice, no call is answered twice, and
 * every acknowledged event x1 published from the cut until x3 is ready again reaches x3's
 * subscriber once, in order. Then n1 and n2 are paused: x3's server is up but has lost the rest
 * of the NATS cluster, and x3 reports not ready and takes nobody for dead until it hears them.
 * Last, n3's routes (through a proxy) are cut while every server and connection stays up.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { eventually } from '../helpers/eventually.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { M, RawPeer, type Msg } from '../helpers/raw-rpc.js';
import { startXbarProcess, type XbarProcess } from '../helpers/xbar-process.js';

/** A callee that answers every invocation with `name`, except the first of registration `hold` (kept in `held`). */
function autoYield(peer: RawPeer, name: string, hold = 0, held: Msg[] = []): void {
  peer.listener = (m) => {
    if (m[0] !== M.INVOCATION) return false;
    if (m[2] === hold && held.length === 0) held.push(m);
    else peer.yield(m[1] as number, [name]);
    return true;
  };
}

/**
 * REGISTER, again while the registry refuses (the reap may not have reached it yet) or does not
 * answer (JetStream electing leaders without the paused server); each REGISTER waits for its own
 * answer, so none succeeds unseen.
 */
async function registerPatiently(peer: RawPeer, procedure: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = peer.nextId();
    peer.send([M.REGISTER, r, {}, procedure]);
    const m = await peer.next((x) => (x[0] === M.REGISTERED && x[1] === r) || (x[0] === M.ERROR && x[2] === r), 20_000);
    if (m[0] === M.REGISTERED) return;
    if (Date.now() > deadline) throw new Error(`REGISTER ${procedure} refused until the deadline: ${JSON.stringify(m)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const readiness = async (n: XbarProcess) => (await fetch(`http://127.0.0.1:${n.webPort}/health/ready`)).status;
const isAnswerTo = (call: number) => (m: Msg) => (m[0] === M.RESULT && m[1] === call) || (m[0] === M.ERROR && m[1] === M.CALL && m[2] === call);
const resultOf = (m: Msg | undefined) => (m?.[0] === M.RESULT ? (m[3] as unknown[])[0] : m?.[4]);

describe('a node cut off from NATS while its clients reach it, and its return', { timeout: 240_000 }, () => {
  let nats: NatsServer[];
  let x1: XbarProcess, x2: XbarProcess, x3: XbarProcess;
  const peers: RawPeer[] = [];
  const clients: AutobahnClient[] = [];
  /** Testament events on topic com.part.gone, as each node's subscriber got them. */
  const gone: Record<string, unknown[]> = { x1: [], x2: [], x3: [] };
  const probed = new Set<string>();
  /** Events on com.part.news as x3's subscriber got them. */
  const newsX3: unknown[] = [];
  /** Events on com.part.fromx3 as x1's subscriber got them, and the acknowledged publications of x3's session during the cut. */
  const fromX3: unknown[] = [];
  const x3Publications: Promise<string | undefined>[] = [];
  let calleeX1: RawPeer, calleeX3: RawPeer, callerX1: RawPeer, callerX2: RawPeer, callerX3: RawPeer;
  let singleReg = 0;
  let slowCall = 0;
  const held: Msg[] = [];
  let device: AutobahnClient, leaver: AutobahnClient;
  /** Acknowledged events x1 published from the cut until x3 was ready again, in order. */
  const acked: string[] = [];
  let publishing: Promise<void> | undefined;
  let stopPublishing = false;

  before(async () => {
    nats = await startNats(3, { noAdvertise: true, pingSeconds: 1, cuttableRoutes: 2 });
    const cluster = `pt${process.pid}`;
    const [n1, n2, n3] = nats.map((s) => s.url) as [string, string, string];
    const start = (name: string, urls: string[]) => startXbarProcess({ name, natsUrls: urls, cluster, deadAfterMs: 1000, replicas: 3, replayWindowMs: 120_000 });
    x1 = await start('x1', [n1, n2]);
    x2 = await start('x2', [n2, n1]);
    x3 = await start('x3', [n3]);

    [calleeX1, calleeX3, callerX1, callerX2, callerX3] = await Promise.all([x1, x3, x1, x2, x3].map((n) => RawPeer.connect(n.url)));
    peers.push(calleeX1, calleeX3, callerX1, callerX2, callerX3);
    const slowReg = await calleeX3.register('com.part.slow');
    autoYield(calleeX3, 'x3', slowReg, held);
    autoYield(calleeX1, 'x1');
    singleReg = await calleeX3.register('com.part.single');
    for (const caller of [callerX1, callerX2]) {
      await eventually(async () => resultOf(await caller.callAndWait('com.part.single')) === 'x3', 'x1 and x2 reach x3\'s callee');
    }

    for (const [name, node] of [['x1', x1], ['x2', x2], ['x3', x3]] as const) {
      const watcher = await connectAutobahn(node.url);
      clients.push(watcher);
      await watcher.session.subscribe('com.part.gone', (args) => {
        if (args[0] === 'probe') probed.add(name);
        else gone[name]!.push(args[0]);
      });
      if (name === 'x3') await watcher.session.subscribe('com.part.news', (args) => void newsX3.push(args[0]));
      if (name === 'x1') await watcher.session.subscribe('com.part.fromx3', (args) => void fromX3.push(args[0]));
    }
    [device, leaver] = await Promise.all([connectAutobahn(x3.url), connectAutobahn(x3.url)]);
    clients.push(device);
    for (const s of [device, leaver]) {
      await s.session.call('wamp.session.add_testament', ['com.part.gone', [s === device ? 'device' : 'leaver'], {}]);
      await s.session.call('wamp.session.count'); // the copy in the cluster is written by now
    }
    // Every watcher's subscription has reached the other nodes.
    await eventually(async () => {
      await clients[0]!.session.publish('com.part.gone', ['probe'], {}, { acknowledge: true, exclude_me: false });
      await clients[0]!.session.publish('com.part.news', ['probe'], {}, { acknowledge: true });
      await clients[2]!.session.publish('com.part.fromx3', ['probe'], {}, { acknowledge: true });
      return probed.size === 3 && newsX3.includes('probe') && fromX3.includes('probe');
    }, 'the probe on every node');

    // A call from x1 to x3's callee is under way when x3 is cut off.
    slowCall = callerX1.call('com.part.slow');
    await eventually(() => held.length === 1, 'the slow invocation on x3');
  });

  after(async () => {
    // XBAR_TEST_LOG_DIR=<dir>: the three nodes' logs, for a failure's post-mortem.
    const dir = process.env.XBAR_TEST_LOG_DIR;
    nats?.[2]?.routes?.heal();
    if (dir) for (const n of [x1, x2, x3]) if (n) writeFileSync(path.join(dir, `partition-${n.name}.log`), n.output());
    for (const n of nats ?? []) n.process.kill('SIGCONT');
    await Promise.all(peers.map((p) => p.kill().catch(() => undefined)));
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all([x1, x2, x3].map((n) => n?.kill('SIGTERM')));
    await stopNats(nats);
  });

  it('is taken for dead by the others: its testaments published, its single procedure free to register elsewhere', async () => {
    const reaps = () => x1.output().split('reaped the registrations of a lost node').length;
    const reapsBefore = reaps();
    nats[2]!.process.kill('SIGSTOP');
    const cut = Date.now();
    // x1 publishes, acknowledged, every 100 ms until x3 is ready again after the heal.
    publishing = (async () => {
      for (let i = 0; !stopPublishing; i++) {
        const ev = `cut-${i}`;
        await clients[0]!.session.publish('com.part.news', [ev], {}, { acknowledge: true });
        acked.push(ev);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Published while x3's connection is not yet declared lost (nats.js pings): x3 must get it after the heal.
    await eventually(() => x1.output().includes('"cluster node lost"'), 'x1 to take x3 for dead', 35_000);
    await clients[0]!.session.publish('com.part.news', ['early'], {}, { acknowledge: true });
    await eventually(() => reaps() > reapsBefore, 'x1 to reap x3', 35_000);
    console.log(`# n3 paused: x1 reaped x3 after ${Date.now() - cut} ms`);
    // The rule: a call in flight to a node taken for dead is answered canceled then, by the caller's node.
    const answer = await callerX1.next(isAnswerTo(slowCall), 10_000);
    assert.equal(resultOf(answer), 'wamp.error.canceled', JSON.stringify(answer));

    await eventually(() => ['x1', 'x2'].every((n) => gone[n]!.length === 2), 'the reaper\'s testaments on x1 and x2', 35_000);
    // JetStream may elect new leaders for the buckets first.
    await registerPatiently(calleeX1, 'com.part.single', 40_000);
    // A node's copy of the registry follows the bucket: while JetStream still elects leaders its
    // lookup may fail (canceled: "unregistered while the call waited"), never reach x3.
    for (const [name, caller] of [['x1', callerX1], ['x2', callerX2]] as const) {
      const first = await caller.callAndWait('com.part.single');
      if (resultOf(first) !== 'x1') console.log(`# the first call from ${name} after x1's REGISTER: ${JSON.stringify(first)}`);
      assert.notEqual(resultOf(first), 'x3');
      await eventually(async () => resultOf(await caller.callAndWait('com.part.single')) === 'x1', `calls from ${name} to reach x1's callee`, 10_000);
    }
  });

  it('serves its own sessions meanwhile: events and calls between them, with /health/ready 503', async () => {
    const [pub, sub] = await Promise.all([connectAutobahn(x3.url), connectAutobahn(x3.url)]);
    clients.push(pub, sub);
    const got: unknown[] = [];
    await sub.session.subscribe('com.part.local', (args) => void got.push(args[0]));
    await pub.session.publish('com.part.local', ['hello x3']);
    await eventually(() => got.includes('hello x3'), 'a local event on x3');
    // Acknowledged publications to x1's subscriber: answered once NATS has them (after the heal).
    for (let i = 0; i < 5; i++) {
      x3Publications.push(Promise.resolve(pub.session.publish('com.part.fromx3', [`x3-${i}`], {}, { acknowledge: true })).then(() => `x3-${i}`, () => undefined));
    }
    assert.equal(resultOf(await callerX3.callAndWait('com.part.single')), 'x3', 'x3 routes to its own callee');
    await eventually(async () => (await readiness(x3)) === 503, 'x3 /health/ready 503 while cut off', 15_000);
    assert.equal(await readiness(x1), 200);
    // A session leaving while x3 is cut off: its testament was the reaper's to publish.
    await leaver.close();
  });

  it('on its return keeps the one single registration the majority made, revoking its own callee', async () => {
    nats[2]!.process.kill('SIGCONT');
    const healed = Date.now();
    await eventually(async () => (await readiness(x3)) === 200, 'x3 ready again', 30_000);
    stopPublishing = true;
    await publishing;
    const revoked = await calleeX3.next((m) => m[0] === M.UNREGISTERED && m[1] === 0, 45_000);
    assert.equal((revoked[2] as { registration: number }).registration, singleReg);
    await eventually(async () => resultOf(await callerX3.callAndWait('com.part.single')) === 'x1', 'x3 routes to x1\'s callee', 10_000);
    console.log(`# n3 resumed: x3 ready and its duplicate single registration revoked ${Date.now() - healed} ms after the heal`);
    for (let i = 0; i < 5; i++) {
      for (const caller of [callerX1, callerX2, callerX3]) assert.equal(resultOf(await caller.callAndWait('com.part.single')), 'x1');
    }
    const meta = await callerX3.callAndWait('wamp.registration.lookup', ['com.part.single']);
    const matches = await callerX1.callAndWait('wamp.registration.list_callees', [(meta[3] as number[])[0]]);
    assert.equal((matches[3] as unknown[][])[0]!.length, 1, 'one callee of com.part.single');
  });

  it('on its return answers no call twice, and its other callee is callable from the others again', async () => {
    calleeX3.yield(held[0]![1] as number, ['late']);
    await eventually(async () => resultOf(await callerX1.callAndWait('com.part.slow', [], undefined, {}, 3000).catch(() => undefined)) === 'x3',
      'x1 reaches x3\'s com.part.slow again', 30_000);
    // The canceled answer of the cut (first test), and no other: the late YIELD is dropped.
    const answers = callerX1.log.filter(isAnswerTo(slowCall));
    assert.deepEqual(answers.map(resultOf), ['wamp.error.canceled'], 'one answer for the call in flight');
  });

  it('on its return delivers to its subscribers every acknowledged event the others published while it was cut off, once, in order', async () => {
    assert.ok(acked.length >= 20, `x1 published ${acked.length} events during the cut`);
    await eventually(() => acked.every((ev) => newsX3.includes(ev)) && newsX3.includes('early'), 'x3\'s subscriber to get every event published during the cut', 10_000)
      .catch(() => undefined);
    const missing = acked.filter((ev) => !newsX3.includes(ev));
    for (const line of x3.output().split('\n').filter((l) => l.includes('replay'))) console.log(`# x3: ${line.slice(0, 300)}`);
    console.log(`# x3's subscriber got ${acked.length - missing.length} of the ${acked.length} events x1 published from the cut until x3 was ready again; missing: ${JSON.stringify(missing)}`);
    assert.deepEqual(missing, []);
    for (const ev of ['early', ...acked]) assert.equal(newsX3.filter((x) => x === ev).length, 1, `${ev} once`);
    // 'early' was published between two of the series: compare the series' order only.
    assert.deepEqual(newsX3.filter((x) => typeof x === 'string' && x.startsWith('cut-')), acked, 'in publication order');
  });

  it('on its return delivers to the others\' subscribers every acknowledged event its sessions published while it was cut off, once, in order', async () => {
    const published = (await Promise.all(x3Publications)).filter((x) => x !== undefined);
    await eventually(() => published.every((ev) => fromX3.includes(ev)), 'x1\'s subscriber to get what x3\'s session published during the cut', 10_000).catch(() => undefined);
    console.log(`# x1's subscriber got ${published.filter((ev) => fromX3.includes(ev)).length} of the ${published.length} acknowledged events x3's session published during the cut (of 5)`);
    assert.deepEqual(fromX3.filter((x) => x !== 'probe'), published);
  });

  it('publishes each testament once on every node, also when its session ends after the heal', async () => {
    await device.close();
    await eventually(async () => {
      await clients[0]!.session.publish('com.part.gone', ['marker'], {}, { acknowledge: true, exclude_me: false });
      return Object.values(gone).every((g) => g.includes('marker'));
    }, 'the marker on every node', 15_000);
    for (const [node, g] of Object.entries(gone)) {
      assert.deepEqual(g.slice(0, g.indexOf('marker')).sort(), ['device', 'leaver'], `testaments on ${node}`);
    }
  });

  it('reports not ready while its server has lost the rest of the NATS cluster, takes nobody for dead, and is ready again after', async () => {
    const since = x3.output().length;
    const x3Log = () => x3.output().slice(since);
    nats[0]!.process.kill('SIGSTOP');
    nats[1]!.process.kill('SIGSTOP');
    const cut = Date.now();
    // Acknowledged events for x1's subscriber: one before x3 notices (n3 takes it and has no route), five after.
    const sent: Promise<string | undefined>[] = [];
    const publish = (ev: string) => sent.push(Promise.resolve(clients[2]!.session.publish('com.part.fromx3', [ev], {}, { acknowledge: true })).then(() => ev, () => undefined));
    publish('routeless-early');
    await eventually(async () => (await readiness(x3)) === 503, 'x3 /health/ready 503 while n3 hears no other server', 20_000);
    for (let i = 0; i < 5; i++) publish(`routeless-${i}`);
    const body = await (await fetch(`http://127.0.0.1:${x3.webPort}/health/ready`)).json() as { backplane: string };
    assert.equal(body.backplane, 'degraded');
    console.log(`# n1 and n2 paused: x3 not ready after ${Date.now() - cut} ms`);
    assert.equal(resultOf(await callerX3.callAndWait('com.part.slow')), 'x3', 'x3 still serves its own sessions');
    await new Promise((r) => setTimeout(r, 3000)); // three times dead_after
    assert.ok(!x3Log().includes('"cluster node lost"'), `x3 took nobody for dead: ${x3Log().slice(0, 3000)}`);

    nats[0]!.process.kill('SIGCONT');
    nats[1]!.process.kill('SIGCONT');
    const healed = Date.now();
    await eventually(async () => (await readiness(x3)) === 200, 'x3 ready again', 30_000);
    console.log(`# n1 and n2 resumed: x3 ready ${Date.now() - healed} ms after`);
    await eventually(async () => (await readiness(x1)) === 200 && (await readiness(x2)) === 200, 'x1 and x2 ready again', 30_000);
    await eventually(async () => resultOf(await callerX3.callAndWait('com.part.single', [], undefined, {}, 3000).catch(() => undefined)) === 'x1',
      'x3 reaches x1\'s callee', 20_000);
    assert.ok(!x3Log().includes('"cluster node lost"') && !x3Log().includes('reaped the registrations'), 'x3 took nobody for dead, reaped nothing');
    const published = (await Promise.all(sent)).filter((x) => x !== undefined);
    await eventually(() => published.every((ev) => fromX3.includes(ev)), 'x1\'s subscriber to get what x3 published while n3 was alone', 10_000).catch(() => undefined);
    console.log(`# x1's subscriber got ${published.filter((ev) => fromX3.includes(ev)).length} of the ${published.length} acknowledged events x3 published while n3 was alone (of 6)`);
    assert.deepEqual(fromX3.filter((x) => typeof x === 'string' && x.startsWith('routeless')), published);
  });

  it('while only its server\'s routes are cut, holds what it publishes and misses, and delivers both once, in order, after the heal', async () => {
    const since = x3.output().length;
    const lost = () => x1.output().split('"cluster node lost"').length;
    const lostBefore = lost();
    nats[2]!.routes!.cut();
    const fromX3Sent: Promise<string | undefined>[] = [];
    const publishX3 = (ev: string) => fromX3Sent.push(Promise.resolve(clients[2]!.session.publish('com.part.fromx3', [ev], {}, { acknowledge: true })).then(() => ev, () => undefined));
    publishX3('rcut-early');
    const toX3: string[] = [];
    let cutOver = false;
    const x1Publishing = (async () => {
      for (let i = 0; !cutOver; i++) {
        await clients[0]!.session.publish('com.part.news', [`rcut-${i}`], {}, { acknowledge: true });
        toX3.push(`rcut-${i}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await eventually(async () => (await readiness(x3)) === 503, 'x3 /health/ready 503 while n3 has no routes', 20_000);
    for (let i = 0; i < 5; i++) publishX3(`rcut-x3-${i}`);
    await eventually(() => lost() > lostBefore, 'x1 to take x3 for dead', 20_000);
    assert.ok(!x3.output().slice(since).includes('"cluster node lost"'), 'x3 took nobody for dead');

    nats[2]!.routes!.heal();
    await eventually(async () => (await readiness(x3)) === 200, 'x3 ready again', 30_000);
    cutOver = true;
    await x1Publishing;
    const published = (await Promise.all(fromX3Sent)).filter((x) => x !== undefined);
    await eventually(() => published.every((ev) => fromX3.includes(ev)) && toX3.every((ev) => newsX3.includes(ev)), 'both ways delivered', 10_000).catch(() => undefined);
    console.log(`# routes cut: x1's subscriber got ${published.filter((ev) => fromX3.includes(ev)).length} of ${published.length} acknowledged events from x3 (of 6), x3's got ${toX3.filter((ev) => newsX3.includes(ev)).length} of ${toX3.length} from x1`);
    assert.deepEqual(fromX3.filter((x) => typeof x === 'string' && x.startsWith('rcut')), published, 'x3 to x1');
    assert.deepEqual(newsX3.filter((x) => typeof x === 'string' && x.startsWith('rcut')), toX3, 'x1 to x3');
    assert.ok(!x3.output().slice(since).includes('"cluster node lost"'), 'x3 took nobody for dead');
  });
});
