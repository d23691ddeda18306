/**
 * The backplane contract (src/backplane/backplane.ts), one suite every backplane passes:
 * LocalBackplane (the embedded single node), NatsBackplane over a real nats-server and
 * HubBackplane (the workers of one node) over a real hub, with calls between workers direct and
 * relayed by the hub. What
 * needs a second node runs where the kind can have one; a single-node kind must answer the
 * same way as a cluster of one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { ClusterCallee, EventOut, ReplySink } from '../../src/backplane/backplane.js';
import { stableId } from '../../src/backplane/stable-id.js';
import { ErrorUri } from '../../src/wamp/errors.js';
import { serializerById } from '../../src/serializers/index.js';
import type { Content, Dict } from '../../src/wamp/messages.js';
import { eventually } from '../helpers/eventually.js';
import { type BackplaneKind, type BackplaneNode, hubKind, localKind, natsKind } from './backplane-kinds.js';

const REALM = 'realm1';

function callee(n: BackplaneNode, session: number, o: Partial<ClusterCallee> = {}): ClusterCallee {
  return { node: n.bp.nodeId, session, authid: `a${session}`, authrole: 'user', discloseCaller: false, ...o };
}

function event(topic: string, publication: number, o: Partial<EventOut> = {}): EventOut {
  return { realm: REALM, topic, publication, args: [publication], kwargs: undefined, ...o };
}

/** Every outcome a caller's sink got, in order. */
function sink(): ReplySink & { got: unknown[][] } {
  const got: unknown[][] = [];
  return {
    got,
    progress: (answer: Content) => void got.push(['progress', ...(answer.args ?? [])]),
    result: ({ args, kwargs }: Content) => void got.push(['result', ...(args ?? []), ...(kwargs ? [kwargs] : [])]),
    error: (uri: string, answer: Content, details: Dict) => void got.push(['error', uri, ...(answer.args ?? []), details]),
    undelivered: (why) => void got.push(['undelivered', why]),
  };
}

function contract(kind: BackplaneKind): void {
  describe(`backplane contract: ${kind.name}`, { timeout: 120_000 }, () => {
    before(() => kind.setUp());
    after(() => kind.tearDown());

    async function cluster(t: TestContext, count: number): Promise<BackplaneNode[]> {
      const nodes = await kind.cluster(count);
      t.after(() => Promise.all(nodes.map((n) => n.bp.stop())));
      return nodes;
    }
    // The several-node specifications are for backplanes that form a cluster (LocalBackplane is one node).
    const clusters = kind.maxNodes >= 2;

    describe('one node', () => {
      it('issues session ids unique among live sessions, integers in [1, 2^53]', async (t) => {
        const [a] = await cluster(t, 1);
        const ids = new Set<number>();
        for (let i = 0; i < 20_000; i++) {
          const id = a!.bp.newSessionId();
          assert.ok(Number.isSafeInteger(id) && id >= 1 && id <= 2 ** 53, `id ${id}`);
          assert.ok(!ids.has(id), `id ${id} issued twice`);
          ids.add(id);
        }
        for (const id of ids) a!.bp.releaseSessionId(id);
      });

      it('counts itself a member, and is healthy', async (t) => {
        const [a] = await cluster(t, 1);
        assert.ok(a!.bp.members().has(a!.bp.nodeId));
        assert.ok(['standalone', 'ready'].includes(a!.bp.health()), a!.bp.health());
      });

      it('keeps a publication that no other node wants to itself, and confirms it at once', async (t) => {
        const [a] = await cluster(t, 1);
        await a!.bp.addInterest(REALM, 'com.t', 'exact');
        assert.equal(a!.bp.publish(event('com.t', 1)), 'local-only');
        await a!.bp.confirm();
        a!.bp.removeInterest(REALM, 'com.t', 'exact');
        assert.deepEqual(a!.heard.events, [], 'a node does not hear its own publications');
      });

      it('answers a scatter-gather query with nothing when no other node exists', async (t) => {
        const [a] = await cluster(t, 1);
        assert.deepEqual(await a!.bp.query(REALM, { kind: 'sessions' }, 100), []);
      });

      it('registers a procedure: the id is the stable one, the change is heard before register() resolves', async (t) => {
        const [a] = await cluster(t, 1);
        const outcome = await a!.bp.register(REALM, 'com.p', 'exact', 'single', callee(a!, 1), false);
        assert.deepEqual(outcome, { regId: stableId(REALM, 'exact', 'com.p') });
        const reg = a!.heard.last('com.p');
        assert.ok(reg, 'registryChanged before register() resolved');
        assert.deepEqual({ ...reg, callees: reg.callees.map((c) => c.session) },
          { realm: REALM, uri: 'com.p', match: 'exact', invoke: 'single', regId: stableId(REALM, 'exact', 'com.p'), callees: [1] });
      });

      it('keeps a single registration unique and a shared one to one invoke policy', async (t) => {
        const [a] = await cluster(t, 1);
        const reg = (uri: string, invoke: 'single' | 'roundrobin' | 'random' | 'first' | 'last', session: number) =>
          a!.bp.register(REALM, uri, 'exact', invoke, callee(a!, session), false);
        await reg('com.single', 'single', 1);
        assert.equal((await reg('com.single', 'single', 2) as { error: string }).error, ErrorUri.procedureAlreadyExists);
        assert.equal((await reg('com.single', 'roundrobin', 2) as { error: string }).error, ErrorUri.procedureAlreadyExists);
        await reg('com.shared', 'roundrobin', 1);
        assert.ok('regId' in (await reg('com.shared', 'roundrobin', 2)));
        const mismatch = await reg('com.shared', 'random', 3) as { error: string; message: string };
        assert.equal(mismatch.error, ErrorUri.procedureAlreadyExists);
        assert.match(mismatch.message, /roundrobin/);
        assert.equal((await reg('com.shared', 'roundrobin', 2) as { error: string }).error, ErrorUri.procedureAlreadyExists, 'same session twice');
        assert.deepEqual(a!.heard.last('com.shared')!.callees.map((c) => c.session), [1, 2]);
      });

      it('keeps callees in registration order, and force_reregister replaces them all', async (t) => {
        const [a] = await cluster(t, 1);
        for (const s of [3, 1, 2]) await a!.bp.register(REALM, 'com.ordered', 'prefix', 'first', callee(a!, s), false);
        assert.deepEqual(a!.heard.last('com.ordered')!.callees.map((c) => c.session), [3, 1, 2]);
        await a!.bp.register(REALM, 'com.ordered', 'prefix', 'last', callee(a!, 9), true);
        const now = a!.heard.last('com.ordered')!;
        assert.equal(now.invoke, 'last');
        assert.deepEqual(now.callees.map((c) => c.session), [9]);
      });

      it('tells of an unregistered callee, and of the registration gone with its last one', async (t) => {
        const [a] = await cluster(t, 1);
        await a!.bp.register(REALM, 'com.u', 'wildcard', 'roundrobin', callee(a!, 1), false);
        await a!.bp.register(REALM, 'com.u', 'wildcard', 'roundrobin', callee(a!, 2), false);
        a!.bp.unregister(REALM, 'com.u', 'wildcard', 1);
        await eventually(() => a!.heard.last('com.u')?.callees.length === 1, 'the registration without callee 1');
        a!.bp.unregister(REALM, 'com.u', 'wildcard', 7); // not a callee: nothing changes
        a!.bp.unregister(REALM, 'com.u', 'wildcard', 2);
        await eventually(() => a!.heard.last('com.u') === undefined, 'the registration gone');
        await a!.bp.refresh(REALM, 'com.u', 'wildcard');
        assert.equal(a!.heard.last('com.u'), undefined, 'a refresh brings no stale registration back');
        assert.ok('regId' in (await a!.bp.register(REALM, 'com.u', 'wildcard', 'single', callee(a!, 3), false)), 'the URI is free again');
      });

      it('keeps testaments without complaint and stops twice', async (t) => {
        const [a] = await cluster(t, 1);
        a!.bp.keepTestaments(REALM, 5, [{ topic: 'com.will', args: ['bye'], kwargs: undefined, options: {} }]);
        a!.bp.keepTestaments(REALM, 5, []);
        await a!.bp.stop();
        await a!.bp.stop();
      });
    });

    describe('shared state', () => {
      const entry = (topic: string, publication: number, bytes = 10) => ({ event: event(topic, publication), time: Date.now(), bytes });

      it('keeps one retained event per topic, the longest retained first, with their bytes', async (t) => {
        const [a] = await cluster(t, 1);
        const r = a!.bp.retained;
        await r.put(entry('com.r.one', 1));
        await r.put(entry('com.r.two', 2, 5));
        await r.put(entry('com.r.one', 3, 7));
        assert.deepEqual([...r.entries(REALM)].map((e) => e.event.publication), [2, 3]);
        assert.equal(r.count(REALM), 2);
        assert.equal(r.bytes(REALM), 12);
        r.delete(REALM, 'com.r.two');
        assert.equal(r.get(REALM, 'com.r.two'), undefined);
        assert.equal(r.bytes(REALM), 7);
        await r.refresh(REALM, 'com.r.one');
        assert.equal(r.get(REALM, 'com.r.one')?.event.publication, 3);
        assert.equal(r.count('other'), 0);
      });

      it('hands a history rule\'s appends to its follower, and calls a lone node first and last', async (t) => {
        const [a] = await cluster(t, 1);
        const got: number[] = [];
        await a!.bp.history.follow(REALM, 7, { limit: 10 }, (e) => got.push(e.event.publication));
        await a!.bp.history.append(REALM, 7, entry('com.h', 1));
        await a!.bp.history.sync(REALM, 7);
        assert.deepEqual(got, [1]);
        assert.equal(await a!.bp.holdSubscription(REALM, 'com.s', 'exact'), true);
        assert.equal(await a!.bp.releaseSubscription(REALM, 'com.s', 'exact'), true);
      });

      if (clusters) it('shares retained events, history and the first and last subscriber between nodes', async (t) => {
        const [a, b] = await cluster(t, 2);
        await a!.bp.retained.put(entry('com.r.x', 1));
        await b!.bp.retained.refresh(REALM, 'com.r.x');
        assert.equal(b!.bp.retained.get(REALM, 'com.r.x')?.event.publication, 1);
        await a!.bp.history.follow(REALM, 9, { limit: 2 }, () => undefined);
        for (const p of [1, 2, 3]) await a!.bp.history.append(REALM, 9, entry('com.h', p));
        // A follower that comes later gets what the log kept (its limit), then what any node appends.
        const got: number[] = [];
        await b!.bp.history.follow(REALM, 9, { limit: 2 }, (e) => got.push(e.event.publication));
        assert.deepEqual(got, [2, 3]);
        await a!.bp.history.append(REALM, 9, entry('com.h', 4));
        await b!.bp.history.sync(REALM, 9);
        assert.deepEqual(got, [2, 3, 4]);
        assert.equal(await a!.bp.holdSubscription(REALM, 'com.s', 'exact'), true);
        assert.equal(await b!.bp.holdSubscription(REALM, 'com.s', 'exact'), false);
        assert.equal(await a!.bp.releaseSubscription(REALM, 'com.s', 'exact'), false);
        assert.equal(await b!.bp.releaseSubscription(REALM, 'com.s', 'exact'), true);
        assert.equal(await b!.bp.holdSubscription(REALM, 'com.s', 'exact'), true);
      });
    });

    if (clusters) describe('several nodes', () => {
      it('hands an event to every node with interest, once however many subscriptions overlap, in publisher order', async (t) => {
        const [a, b, c] = await cluster(t, 3);
        await b!.bp.addInterest(REALM, 'com.ev.x', 'exact');
        await b!.bp.addInterest(REALM, 'com.ev', 'prefix');
        await b!.bp.addInterest(REALM, 'com..x', 'wildcard');
        await eventually(() => a!.bp.members().size === 3, 'a sees three members');
        for (let i = 1; i <= 100; i++) assert.equal(a!.bp.publish(event('com.ev.x', i)), 'sent');
        await a!.bp.confirm();
        await eventually(() => b!.heard.events.length >= 100, 'b has the 100 events');
        assert.deepEqual(b!.heard.events.map((e) => e.publication), Array.from({ length: 100 }, (_, i) => i + 1));
        assert.equal(c!.heard.events.length, 0, 'c has no interest');
        // A marker after the last: nothing more arrives before it.
        a!.bp.publish(event('com.ev.end', 101));
        await eventually(() => b!.heard.events.at(-1)?.publication === 101, 'the marker');
        assert.equal(b!.heard.events.length, 101);
      });

      it('carries the publisher, the receiver filters and the payload unchanged', async (t) => {
        const [a, b] = await cluster(t, 2);
        await b!.bp.addInterest(REALM, 'com.f', 'exact');
        await eventually(() => a!.bp.members().size === 2, 'a sees b');
        const ev = event('com.f', 42, {
          publisher: { session: 2 ** 52 + 1, authid: 'alice', authrole: 'admin' },
          receivers: { exclude: [1, 2], eligible: [3], excludeAuthid: ['bob'], excludeAuthrole: ['guest'], eligibleAuthid: ['carol'], eligibleAuthrole: ['user'] },
          args: [1, 'two', { three: [3] }, new Uint8Array([4, 5])], kwargs: { k: null },
        });
        a!.bp.publish(ev);
        await eventually(() => b!.heard.events.length === 1, 'the event');
        assert.deepEqual({ ...b!.heard.events[0]!, args: b!.heard.events[0]!.args!.slice(0, 3) }, { ...ev, args: ev.args!.slice(0, 3) });
        assert.deepEqual([...(b!.heard.events[0]!.args![3] as Uint8Array)], [4, 5]);
      });

      it('stops handing events to a node once it has no interest left', async (t) => {
        const [a, b] = await cluster(t, 2);
        await b!.bp.addInterest(REALM, 'com.gone', 'exact');
        await b!.bp.addInterest(REALM, 'com.gone', 'exact');
        await b!.bp.addInterest(REALM, 'com.marker', 'exact');
        await eventually(() => a!.bp.members().size === 2, 'a sees b');
        b!.bp.removeInterest(REALM, 'com.gone', 'exact');
        a!.bp.publish(event('com.gone', 1));
        await eventually(() => b!.heard.events.length === 1, 'still one interest: delivered');
        b!.bp.removeInterest(REALM, 'com.gone', 'exact');
        await b!.bp.confirm(); // the unsubscription has reached the server
        a!.bp.publish(event('com.gone', 2));
        a!.bp.publish(event('com.marker', 3));
        await eventually(() => b!.heard.events.length >= 2, 'the marker');
        assert.deepEqual(b!.heard.events.map((e) => e.publication), [1, 3]);
      });

      it('makes one registry of every node: changes reach all, a single registration is unique across nodes', async (t) => {
        const [a, b] = await cluster(t, 2);
        await a!.bp.register(REALM, 'com.one', 'exact', 'single', callee(a!, 1), false);
        await eventually(() => b!.heard.last('com.one') !== undefined, 'b hears of the registration');
        assert.deepEqual(b!.heard.last('com.one')!.callees, [callee(a!, 1)], 'the callee as registered, no field added');
        assert.equal((await b!.bp.register(REALM, 'com.one', 'exact', 'single', callee(b!, 2), false) as { error: string }).error, ErrorUri.procedureAlreadyExists);
        await a!.bp.register(REALM, 'com.many', 'exact', 'first', callee(a!, 1), false);
        await b!.bp.register(REALM, 'com.many', 'exact', 'first', callee(b!, 2), false);
        await a!.bp.register(REALM, 'com.many', 'exact', 'first', callee(a!, 3), false);
        for (const n of [a!, b!]) {
          await eventually(() => n.heard.last('com.many')?.callees.length === 3, 'three callees everywhere');
          assert.deepEqual(n.heard.last('com.many')!.callees.map((c) => c.session), [1, 2, 3], 'the global registration order');
        }
        b!.bp.unregister(REALM, 'com.many', 'exact', 2);
        await eventually(() => a!.heard.last('com.many')?.callees.length === 2, 'a hears of the unregistration');
      });

      it('issues session ids that no other node issues', async (t) => {
        const [a, b] = await cluster(t, 2);
        const mine = new Set(Array.from({ length: 5000 }, () => a!.bp.newSessionId()));
        for (let i = 0; i < 5000; i++) assert.ok(!mine.has(b!.bp.newSessionId()));
      });

      it('delivers an invocation to the callee\'s node and its answers back: progress, result, error', async (t) => {
        const [a, b] = await cluster(t, 2);
        b!.heard.invoked = (inv, port) => {
          if (inv.procedure === 'com.fail') return port.error('app.error.no', { args: ['why'], kwargs: undefined }, { extra: 1 });
          port.progress({ args: ['p1'], kwargs: undefined });
          port.result({ args: [(inv.args?.[0] as number) * 2], kwargs: { k: 1 } });
        };
        const inv = { realm: REALM, procedure: 'com.double', regId: 7, callee: 3, details: { caller: 9 }, args: [21], kwargs: undefined };
        const s1 = sink();
        a!.bp.invoke(b!.bp.nodeId, inv, s1);
        await eventually(() => s1.got.length === 2, 'progress and result');
        assert.deepEqual(s1.got, [['progress', 'p1'], ['result', 42, { k: 1 }]]);
        assert.deepEqual(b!.heard.invocations[0]!.inv, inv);
        const s2 = sink();
        a!.bp.invoke(b!.bp.nodeId, { ...inv, procedure: 'com.fail' }, s2);
        await eventually(() => s2.got.length === 1, 'the error');
        assert.deepEqual(s2.got, [['error', 'app.error.no', 'why', { extra: 1 }]]);
      });

      it('carries an invocation\'s, a chunk\'s and the answers\' payload bytes as given, their values read from them', async (t) => {
        const [a, b] = await cluster(t, 2);
        const json = serializerById('json')!;
        const bytesOf = (text: string, count: 1 | 2) => {
          const message = new TextEncoder().encode(`[0, ${text}]`);
          return { content: { args: undefined, kwargs: undefined, payload: json.payloadOf(message, 1, count)! }, text };
        };
        const call = bytesOf('[1.50, "x"] , {"k" : 1}', 2);
        const chunk = bytesOf('[ 2 ]', 1);
        const answers = [bytesOf('["p"]', 1), bytesOf('[3.0]', 1), bytesOf('["no"] ,{}', 2)];
        const exact = (c: Content | undefined) => {
          const p = c?.payload;
          return p ? new TextDecoder().decode(p.message.subarray(p.start, p.end)) : undefined;
        };
        const heard: unknown[] = [];
        b!.heard.invoked = (inv, port) => {
          heard.push(exact(inv), inv.args, inv.kwargs);
          if (inv.procedure === 'com.fail') port.error('app.error.no', answers[2]!.content, {});
        };
        const got: unknown[] = [];
        const inv = { realm: REALM, procedure: 'com.pass', regId: 1, callee: 1, details: { progress: true }, ...call.content };
        const handle = a!.bp.invoke(b!.bp.nodeId, inv, {
          progress: (c) => void got.push(['progress', exact(c), c.args]),
          result: (c) => void got.push(['result', exact(c), c.args]),
          error: (uri, c) => void got.push([uri, exact(c), c.args, c.kwargs]),
          undelivered: (why) => void got.push(why),
        });
        await eventually(() => b!.heard.invocations.length === 1, 'the invocation');
        assert.deepEqual(heard, [call.text, [1.5, 'x'], { k: 1 }]);
        handle.chunk(chunk.content, true);
        const served = b!.heard.invocations[0]!;
        await eventually(() => served.contents.length === 1, 'the chunk');
        assert.deepEqual([exact(served.contents[0]), served.contents[0]!.args], ['[ 2 ]', [2]]);
        served.port.progress(answers[0]!.content);
        served.port.result(answers[1]!.content);
        await eventually(() => got.length === 2, 'progress and result');
        assert.deepEqual(got, [['progress', '["p"]', ['p']], ['result', '[3.0]', [3]]]);
        const errors: unknown[][] = [];
        a!.bp.invoke(b!.bp.nodeId, { ...inv, procedure: 'com.fail' }, {
          progress: () => undefined, result: () => undefined, error: (uri, c) => void errors.push([uri, exact(c), c.args, c.kwargs]), undelivered: () => undefined,
        });
        await eventually(() => errors.length === 1, 'the error');
        assert.deepEqual(errors, [['app.error.no', '["no"] ,{}', ['no'], {}]]);
      });

      it('says undelivered for a node that does not exist, or a callee that is gone or busy', async (t) => {
        const [a, b] = await cluster(t, 2);
        b!.heard.invoked = (inv, port) => port.reject(inv.procedure === 'com.busy' ? 'busy' : 'gone');
        const inv = { realm: REALM, procedure: 'com.x', regId: 1, callee: 1, details: {}, args: undefined, kwargs: undefined };
        const none = sink();
        a!.bp.invoke('no-such-node', inv, none);
        const gone = sink();
        a!.bp.invoke(b!.bp.nodeId, inv, gone);
        const busy = sink();
        a!.bp.invoke(b!.bp.nodeId, { ...inv, procedure: 'com.busy' }, busy);
        await eventually(() => none.got.length + gone.got.length + busy.got.length === 3, 'three outcomes');
        assert.deepEqual([none.got, gone.got, busy.got], [[['undelivered', 'gone']], [['undelivered', 'gone']], [['undelivered', 'busy']]]);
      });

      it('passes chunks and cancels to the invocation; after a cancel (not kill) a late answer is dropped', async (t) => {
        const [a, b] = await cluster(t, 2);
        const inv = { realm: REALM, procedure: 'com.stream', regId: 1, callee: 1, details: { progress: true }, args: [1], kwargs: undefined };
        const s = sink();
        const handle = a!.bp.invoke(b!.bp.nodeId, inv, s);
        await eventually(() => b!.heard.invocations.length === 1, 'the invocation');
        handle.chunk({ args: [2], kwargs: undefined }, false);
        handle.chunk({ args: [3], kwargs: undefined }, true);
        const served = b!.heard.invocations[0]!;
        await eventually(() => served.chunks.length === 2, 'both chunks');
        assert.deepEqual(served.chunks, [[2, false], [3, true]]);
        handle.cancel('killnowait', 'wamp.error.canceled');
        await eventually(() => served.cancels.length === 1, 'the cancel');
        assert.deepEqual(served.cancels, ['killnowait:wamp.error.canceled']);
        served.port.result({ args: ['late'], kwargs: undefined });
        // A second call's answer arrives after the late one would have: the late one was dropped.
        b!.heard.invoked = (_inv, port) => port.result({ args: ['second'], kwargs: undefined });
        const s2 = sink();
        a!.bp.invoke(b!.bp.nodeId, inv, s2);
        await eventually(() => s2.got.length === 1, 'the second answer');
        assert.deepEqual(s.got, []);
      });

      it('gathers the other nodes\' answers to a meta query', async (t) => {
        const [a, b, c] = await cluster(t, 3);
        b!.heard.answer = (realm, q) => ({ node: 'b', realm, q });
        c!.heard.answer = () => ({ node: 'c' });
        await eventually(() => a!.bp.members().size === 3, 'a sees three members');
        const answers = await a!.bp.query(REALM, { kind: 'count' }, 2000);
        assert.deepEqual(answers.sort((x, y) => String(x.node).localeCompare(String(y.node))), [{ node: 'b', realm: REALM, q: { kind: 'count' } }, { node: 'c' }]);
      });

      it('when a node leaves: it is down everywhere, its callees leave the registry, its calls end, its testaments are published once', async (t) => {
        const [a, b, c] = await cluster(t, 3);
        await c!.bp.register(REALM, 'com.leaver', 'exact', 'roundrobin', callee(c!, 5), false);
        await b!.bp.register(REALM, 'com.leaver', 'exact', 'roundrobin', callee(b!, 6), false);
        // Several sessions: each one's testaments are published (a listing once broke off after the first).
        for (const session of [5, 6, 7]) c!.bp.keepTestaments(REALM, session, [{ topic: `com.will.${session}`, args: ['gone'], kwargs: { k: 1 }, options: { exclude: [1] } }]);
        await eventually(() => a!.bp.members().size === 3 && b!.bp.members().size === 3, 'everyone sees three members');
        const s = sink();
        a!.bp.invoke(c!.bp.nodeId, { realm: REALM, procedure: 'com.leaver', regId: 1, callee: 5, details: {}, args: undefined, kwargs: undefined }, s);
        await eventually(() => c!.heard.invocations.length === 1, 'the invocation reached c');
        await c!.bp.stop();
        for (const n of [a!, b!]) {
          await eventually(() => n.heard.down.includes(c!.bp.nodeId), 'c is down');
          await eventually(() => n.heard.last('com.leaver')?.callees.map((x) => x.session).join() === '6', 'only b\'s callee left');
        }
        assert.deepEqual(s.got, [['error', 'wamp.error.canceled', 'callee node lost', {}]]);
        await eventually(() => a!.heard.orphaned.length + b!.heard.orphaned.length === 3, 'the three sessions\' testaments published');
        const published = [...a!.heard.orphaned, ...b!.heard.orphaned].sort((x, y) => x.testaments[0]!.topic.localeCompare(y.testaments[0]!.topic));
        assert.deepEqual(published, [5, 6, 7].map((session) => ({
          realm: REALM, testaments: [{ topic: `com.will.${session}`, args: ['gone'], kwargs: { k: 1 }, options: { exclude: [1] } }],
        })));
        assert.equal(a!.heard.orphaned.length, 3, 'by the lowest live node');
        assert.ok(!a!.bp.members().has(c!.bp.nodeId));
      });
    });
  });
}

contract(localKind);
contract(natsKind());
contract(hubKind());
contract(hubKind({ direct: false }));
