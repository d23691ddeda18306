/**
 * Pattern-based registrations (advanced/ap_rpc_pattern_based_registration.md): prefix and wildcard
 * callees get INVOCATION.Details.procedure; one call goes to one registration, chosen exact >
 * longest prefix > wildcard. wampy callees show the raw INVOCATION details.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type autobahn from 'autobahn';
import type { Wampy } from 'wampy';
import { startNode, type TestNode } from '../../helpers/node.js';
import { connectAutobahn, connectWampy } from '../../helpers/clients.js';

describe('rpc pattern-based registrations', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  /** A wampy callee per pattern, each answering [its name, details.procedure ?? null]. */
  async function patternCallee(name: string, procedure: string, match: 'exact' | 'prefix' | 'wildcard'): Promise<Wampy> {
    const w = await connectWampy(t.wsUrl);
    await w.register(procedure, ({ details }) => ({ argsList: [name, (details.procedure as string | undefined) ?? null] }), { match });
    return w;
  }

  it('gives a prefix callee the called URI in details.procedure', async () => {
    const callee = await patternCallee('prefix', 'com.pat.prefix', 'prefix');
    const caller = await connectAutobahn(t.wsUrl);
    for (const uri of ['com.pat.prefix', 'com.pat.prefix.a', 'com.pat.prefix.a.b.c', 'com.pat.prefixed']) {
      assert.deepEqual((await caller.session.call(uri) as autobahn.Result).args, ['prefix', uri]);
    }
    await assert.rejects(caller.session.call('com.pat.other'), (e: autobahn.Error) => e.error === 'wamp.error.no_such_procedure');
    await Promise.all([callee.disconnect(), caller.close()]);
  });

  it('gives a wildcard callee the called URI in details.procedure, matching whole components only', async () => {
    const callee = await patternCallee('wildcard', 'com.pat..get', 'wildcard');
    const caller = await connectAutobahn(t.wsUrl);
    for (const uri of ['com.pat.user.get', 'com.pat.order.get']) {
      assert.deepEqual((await caller.session.call(uri) as autobahn.Result).args, ['wildcard', uri]);
    }
    for (const uri of ['com.pat.get', 'com.pat.a.b.get', 'com.pat.user.get.more']) {
      await assert.rejects(caller.session.call(uri), (e: autobahn.Error) => e.error === 'wamp.error.no_such_procedure', uri);
    }
    await Promise.all([callee.disconnect(), caller.close()]);
  });

  it('sends no details.procedure to an exact callee', async () => {
    const callee = await patternCallee('exact', 'com.pat.exact', 'exact');
    const caller = await connectWampy(t.wsUrl);
    assert.deepEqual((await caller.call('com.pat.exact')).argsList, ['exact', null]);
    await Promise.all([callee.disconnect(), caller.disconnect()]);
  });

  it('routes by precedence: exact, then the longest prefix, then a shorter prefix, then wildcard', async () => {
    const wildcard = await patternCallee('wildcard', 'com.prec..c', 'wildcard');
    const short = await patternCallee('short-prefix', 'com.prec', 'prefix');
    const long = await patternCallee('long-prefix', 'com.prec.b', 'prefix');
    const exact = await patternCallee('exact', 'com.prec.b.c', 'exact');
    const caller = await connectAutobahn(t.wsUrl);
    const who = async (uri: string) => ((await caller.session.call(uri)) as autobahn.Result).args;
    assert.deepEqual(await who('com.prec.b.c'), ['exact', null]);
    assert.deepEqual(await who('com.prec.b.x'), ['long-prefix', 'com.prec.b.x']);
    assert.deepEqual(await who('com.prec.x.c'), ['short-prefix', 'com.prec.x.c']);
    await exact.disconnect();
    assert.deepEqual(await who('com.prec.b.c'), ['long-prefix', 'com.prec.b.c']);
    await long.disconnect();
    assert.deepEqual(await who('com.prec.b.c'), ['short-prefix', 'com.prec.b.c']);
    await short.disconnect();
    assert.deepEqual(await who('com.prec.b.c'), ['wildcard', 'com.prec.b.c']);
    await wildcard.disconnect();
    await assert.rejects(caller.session.call('com.prec.b.c'), (e: autobahn.Error) => e.error === 'wamp.error.no_such_procedure');
    await caller.close();
  });

  it('lets the same URI be registered once per match policy, as separate registrations', async () => {
    const a = await connectAutobahn(t.wsUrl);
    const r1 = await a.session.register('com.same', () => 'exact');
    const r2 = await a.session.register('com.same', () => 'prefix', { match: 'prefix' });
    const r3 = await a.session.register('com.same', () => 'wildcard', { match: 'wildcard' });
    assert.equal(new Set([r1.id, r2.id, r3.id]).size, 3);
    const caller = await connectWampy(t.wsUrl);
    assert.deepEqual((await caller.call('com.same')).argsList, ['exact']);
    assert.deepEqual((await caller.call('com.same.x')).argsList, ['prefix']);
    await Promise.all([a.close(), caller.disconnect()]);
  });

  it('shares a pattern registration with roundrobin and keeps details.procedure per call', async () => {
    const seen: string[][] = [[], []];
    // One after the other: roundrobin follows registration order, which two concurrent REGISTERs
    // on different nodes of a cluster run would leave to chance.
    const cs = [];
    for (const i of [0, 1]) {
      const c = await connectAutobahn(t.wsUrl);
      await c.session.register('com.shared.pat', (_a, _k, d) => {
        seen[i]!.push(d.procedure!);
        return i;
      }, { match: 'prefix', invoke: 'roundrobin' });
      cs.push(c);
    }
    const caller = await connectWampy(t.wsUrl);
    for (let i = 0; i < 4; i++) await caller.call(`com.shared.pat.n${i}`);
    assert.deepEqual(seen, [['com.shared.pat.n0', 'com.shared.pat.n2'], ['com.shared.pat.n1', 'com.shared.pat.n3']]);
    await Promise.all([caller.disconnect(), ...cs.map((c) => c.close())]);
  });
});
