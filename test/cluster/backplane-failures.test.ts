/**
 * What the NATS backplane does with failures it cannot pass on (issue 12, item 2): a malformed
 * frame on any of its subjects, a handler that throws, a testament record that cannot be read —
 * each is logged, and the node goes on working: the next frame is handled as usual. (A handler
 * exception once ended nats.js's reader and silenced the node; a dead node's testaments could
 * fail to be published with no log line.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import pino from 'pino';
import type { EventOut } from '../../src/backplane/backplane.js';
import { NatsBackplane } from '../../src/backplane/nats/nats-backplane.js';
import { Subjects } from '../../src/backplane/nats/subjects.js';
import { Recorder } from '../conformance/backplane-kinds.js';
import { eventually } from '../helpers/eventually.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';

interface Line { level: number; msg: string; why?: string; subject?: string; key?: string; err?: { message: string } }

function capture(): { log: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

const REALM = 'realm1';
const ev = (topic: string, publication: number): EventOut => ({ realm: REALM, topic, publication, args: [publication], kwargs: undefined });

describe('NATS backplane: failures are logged and the node goes on', { timeout: 60_000 }, () => {
  let nats: NatsServer[];
  let raw: NatsConnection;
  let clusters = 0;
  before(async () => {
    nats = await startNats(1);
    raw = await connect({ servers: nats[0]!.url });
  });
  after(async () => {
    await raw.close();
    await stopNats(nats);
  });

  async function pair(t: { after: (fn: () => Promise<unknown>) => void }) {
    const cluster = `f${process.pid}x${++clusters}`;
    const nodes: { bp: NatsBackplane; heard: Recorder; lines: Line[] }[] = [];
    for (const name of ['a', 'b']) {
      const { log, lines } = capture();
      const bp = new NatsBackplane({ servers: [nats[0]!.url], cluster, name, heartbeatMs: 100, deadAfterMs: 600 }, log);
      const heard = new Recorder();
      await bp.start(heard);
      nodes.push({ bp, heard, lines });
    }
    t.after(() => Promise.all(nodes.map((n) => n.bp.stop())));
    await eventually(() => nodes.every((n) => n.bp.members().size === 2), 'both nodes see each other');
    return { cluster, subjects: new Subjects(cluster), a: nodes[0]!, b: nodes[1]! };
  }

  it('drops and logs a malformed frame on every subject it listens to, then handles the next one', async (t) => {
    const { subjects, a, b } = await pair(t);
    await b.bp.addInterest(REALM, 'com.x', 'exact');
    // A call of b's in flight (a never answers it), so its reply subject is listened to.
    const noSink = { progress: () => undefined, result: () => undefined, error: () => undefined, undelivered: () => undefined };
    const invoked = raw.subscribe(subjects.nodeInbox(a.bp.nodeId), { max: 1 });
    await raw.flush();
    b.bp.invoke(a.bp.nodeId, { realm: REALM, procedure: 'p', regId: 1, callee: 1, details: {}, args: undefined, kwargs: undefined }, noSink);
    let replyTo = '';
    for await (const m of invoked) replyTo = m.reply ?? '';
    await eventually(() => a.heard.invocations.length === 1, 'b\'s call reached a');
    const garbage = [Buffer.from('not msgpack at all'), Buffer.from([0x92, 0x01, 0xc0])];
    const targets = [
      subjects.event(REALM, 'com.x'), subjects.nodeInbox(b.bp.nodeId), replyTo,
      subjects.heartbeat, subjects.meta(REALM), `${subjects.prefix}.replay`,
    ];
    for (const subject of targets) for (const g of garbage) raw.publish(subject, g, { reply: subject.endsWith('replay') || subject.includes('.meta.') ? '_INBOX.none' : undefined });
    await raw.flush();
    await eventually(() => new Set(b.lines.filter((l) => l.msg === 'malformed frame dropped').map((l) => l.subject)).size === targets.length,
      'one warning per subject (the second frame on each within the interval is counted, not logged)');
    for (const l of b.lines.filter((x) => x.msg === 'malformed frame dropped')) assert.ok(l.level === 40 && l.why, JSON.stringify(l));
    // Still working: an event and a call.
    a.bp.publish(ev('com.x', 1));
    await eventually(() => b.heard.events.length === 1, 'the event after the garbage');
    b.heard.invoked = (_inv, port) => port.result({ args: ['ok'], kwargs: undefined });
    const got: unknown[] = [];
    a.bp.invoke(b.bp.nodeId, { realm: REALM, procedure: 'p', regId: 1, callee: 1, details: {}, args: undefined, kwargs: undefined }, {
      progress: () => undefined, result: (answer) => void got.push(answer.args), error: (uri) => void got.push(uri), undelivered: (w) => void got.push(w),
    });
    await eventually(() => got.length === 1, 'the answer');
    assert.deepEqual(got, [['ok']]);
  });

  it('logs a handler that throws and keeps reading: the next event is delivered', async (t) => {
    const { a, b } = await pair(t);
    await b.bp.addInterest(REALM, 'com.boom', 'exact');
    const event = b.heard.event.bind(b.heard);
    b.heard.event = (e) => {
      if (e.publication === 1) throw new Error('handler bug');
      event(e);
    };
    a.bp.publish(ev('com.boom', 1));
    a.bp.publish(ev('com.boom', 2));
    await eventually(() => b.heard.events.length === 1, 'the event after the one whose handler threw');
    assert.equal(b.heard.events[0]!.publication, 2);
    const logged = b.lines.find((l) => l.msg === 'handling a frame from the backplane failed');
    assert.equal(logged?.err?.message, 'handler bug');
  });

  it('answers an invocation its node failed to handle with wamp.error.internal_error, and logs it', async (t) => {
    const { a, b } = await pair(t);
    b.heard.invoked = () => {
      throw new Error('dealer bug');
    };
    const got: unknown[] = [];
    a.bp.invoke(b.bp.nodeId, { realm: REALM, procedure: 'com.p', regId: 1, callee: 1, details: {}, args: undefined, kwargs: undefined }, {
      progress: () => undefined, result: () => void got.push('result'), error: (uri) => void got.push(uri), undelivered: (w) => void got.push(w),
    });
    await eventually(() => got.length === 1, 'the answer');
    assert.deepEqual(got, ['wamp.error.internal_error']);
    assert.equal(b.lines.find((l) => l.msg === 'handling an invocation from another node failed')?.err?.message, 'dealer bug');
  });

  it('publishes a dead node\'s readable testaments and logs the one it cannot read', async (t) => {
    const { cluster, a, b } = await pair(t);
    b.bp.keepTestaments(REALM, 1, [{ topic: 'com.will.one', args: [1], kwargs: undefined, options: {} }]);
    b.bp.keepTestaments(REALM, 2, [{ topic: 'com.will.two', args: [2], kwargs: undefined, options: {} }]);
    const kv = await raw.jetstream().views.kv(`xbar_${cluster}_testament`);
    const key = (session: number) => `t.${createHash('sha256').update(b.bp.nodeId).digest('hex').slice(0, 24)}.${session}`;
    await eventually(async () => (await kv.get(key(1)))?.operation === 'PUT' && (await kv.get(key(2)))?.operation === 'PUT', 'both copies kept');
    await kv.put(key(2), Buffer.from('garbage'));
    await b.bp.stop();
    await eventually(() => a.heard.orphaned.length === 1, 'the readable testament published');
    assert.deepEqual(a.heard.orphaned[0]!.testaments.map((x) => x.topic), ['com.will.one']);
    await eventually(() => a.lines.some((l) => l.msg === 'a testament of a lost node could not be read or published'), 'the unreadable one logged');
    const bad = a.lines.find((l) => l.msg === 'a testament of a lost node could not be read or published')!;
    assert.equal(bad.level, 50);
    assert.equal(bad.key, key(2));
    await eventually(async () => (await kv.get(key(2)))?.operation !== 'PUT', 'the bad record deleted too');
  });
});
