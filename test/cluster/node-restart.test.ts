/**
 * A node restarted under the same name (issue 17, point 5): the others remember the last event
 * sequence they delivered from that node id and drop what looks like a copy. A new process of
 * the name must not start its sequence below the old one's, or its first events are dropped. Nor
 * may its call numbers repeat the old run's: a late answer to an old call would answer a new one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { EventOut, RemoteInvocation, ReplySink } from '../../src/backplane/backplane.js';
import { NatsBackplane } from '../../src/backplane/nats/nats-backplane.js';
import { Recorder } from '../conformance/backplane-kinds.js';
import { eventually } from '../helpers/eventually.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';

const REALM = 'realm1';
const ev = (publication: number): EventOut => ({ realm: REALM, topic: 'com.restart.tick', publication, args: [publication], kwargs: undefined });

describe('a node restarted under its name', { timeout: 60_000 }, () => {
  let nats: NatsServer[];
  before(async () => {
    nats = await startNats(1);
  });
  after(() => stopNats(nats));

  const node = async (cluster: string, name: string) => {
    const bp = new NatsBackplane({ servers: [nats[0]!.url], cluster, name, heartbeatMs: 100, deadAfterMs: 600 }, pino({ level: 'silent' }));
    const heard = new Recorder();
    await bp.start(heard);
    return { bp, heard };
  };

  it('has its events delivered by a node that heard its earlier run', async (t) => {
    const cluster = `rs${process.pid}`;
    const receiver = await node(cluster, 'a');
    t.after(() => receiver.bp.stop());
    await receiver.bp.addInterest(REALM, 'com.restart.tick', 'exact');
    const first = await node(cluster, 'pub');
    await eventually(() => first.bp.members().size === 2 && receiver.bp.members().size === 2, 'both nodes see each other');
    for (let i = 1; i <= 20; i++) first.bp.publish(ev(i));
    await first.bp.confirm();
    await eventually(() => receiver.heard.events.length === 20, 'the first run\'s 20 events');
    await first.bp.stop();

    const second = await node(cluster, 'pub');
    t.after(() => second.bp.stop());
    await eventually(() => second.bp.members().size === 2 && receiver.bp.members().has('pub'), 'the new run of "pub" joined');
    for (let i = 101; i <= 105; i++) second.bp.publish(ev(i));
    await second.bp.confirm();
    await eventually(() => receiver.heard.events.length >= 25, 'the second run\'s events', 3000).catch(() => undefined);
    assert.deepEqual(receiver.heard.events.slice(20).map((e) => e.publication), [101, 102, 103, 104, 105],
      'the restarted node\'s events are delivered, in order');
  });

  it('gets no answer to its earlier run\'s call', async (t) => {
    const cluster = `rc${process.pid}`;
    const callee = await node(cluster, 'a');
    t.after(() => callee.bp.stop());
    const inv: RemoteInvocation = { realm: REALM, procedure: 'com.restart.p', regId: 1, callee: 1, details: {}, args: undefined, kwargs: undefined };
    const answers: unknown[] = [];
    const sink: ReplySink = {
      progress: () => undefined, result: (answer) => void answers.push(answer.args?.[0]),
      error: (uri) => void answers.push(uri), undelivered: (why) => void answers.push(why),
    };
    const first = await node(cluster, 'caller');
    await eventually(() => first.bp.members().size === 2, 'both nodes see each other');
    first.bp.invoke('a', inv, { ...sink, result: () => undefined, error: () => undefined });
    await eventually(() => callee.heard.invocations.length === 1, 'the first run\'s call');
    await first.bp.stop();

    const second = await node(cluster, 'caller');
    t.after(() => second.bp.stop());
    await eventually(() => second.bp.members().size === 2, 'the new run of "caller" joined');
    second.bp.invoke('a', inv, sink);
    await eventually(() => callee.heard.invocations.length === 2, 'the second run\'s call');
    callee.heard.invocations[0]!.port.result({ args: ['stale'], kwargs: undefined });
    callee.heard.invocations[1]!.port.result({ args: ['fresh'], kwargs: undefined });
    await eventually(() => answers.length > 0, 'an answer');
    assert.deepEqual(answers, ['fresh'], 'the new call is answered by its own invocation only');
  });
});
