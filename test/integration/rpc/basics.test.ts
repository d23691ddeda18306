/**
 * Routed RPC basics over real sockets: REGISTER / UNREGISTER / CALL / INVOCATION / YIELD / RESULT /
 * ERROR between Autobahn|JS and wampy with args/kwargs intact on every serializer, application
 * errors passed through unchanged, the spec's error URIs, and caller identification.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import autobahn from 'autobahn';
import type { Permission } from '../../../src/config/types.js';
import { ALLOW_ALL, realm, startNode, type TestNode, pendingState } from '../../helpers/node.js';
import { connectAutobahn, connectWampy, SERIALIZERS } from '../../helpers/clients.js';
import { M, RawPeer } from '../../helpers/raw-rpc.js';

const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };

/** Everything a payload may hold that every serializer can carry. */
const ARGS = [1, -2.5, 'text ü ✓', true, false, null, [], [1, [2, [3]]], { nested: { deep: [1, 'x'] } }, 2 ** 31 + 7];
const KWARGS = { a: 1, b: 'two', c: [3, { d: null }], e: {}, 'key with space': 'ok' };

const rule = (uri: string, allow: Partial<Permission['allow']>, disclose = false): Permission => ({
  uri, match: 'prefix', cache: true, disclose: { caller: disclose, publisher: false },
  allow: { call: false, register: false, publish: false, subscribe: false, ...allow },
});

describe('rpc basics', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode({
      realms: [realm('realm1', [{
        name: 'anonymous',
        permissions: [
          ALLOW_ALL,
          rule('com.callonly.', { call: true }),
          rule('com.registeronly.', { register: true }),
          rule('com.disclosed.', { call: true, register: true }, true),
        ],
      }])],
    });
  });
  after(() => t.stop());

  for (const s of SERIALIZERS) {
    it(`carries args and kwargs untouched from a wampy caller to an Autobahn|JS callee and back (${s})`, async () => {
      const callee = await connectAutobahn(t.wsUrl, { serializer: s });
      const caller = await connectWampy(t.wsUrl, s);
      let seen: unknown[] = [];
      await callee.session.register(`com.basic.echo.${s}`, (args, kwargs) => {
        seen = [args, kwargs];
        return new autobahn.Result(args, kwargs);
      });
      const r = await caller.call(`com.basic.echo.${s}`, { argsList: ARGS, argsDict: KWARGS });
      assert.deepEqual(seen, [ARGS, KWARGS]);
      assert.deepEqual(r.argsList, ARGS);
      assert.deepEqual(r.argsDict, KWARGS);
      await caller.disconnect();
      await callee.close();
      assert.deepEqual(pendingState(t), IDLE);
    });
  }

  it('carries a call between different serializers (msgpack caller, cbor callee, json observer)', async () => {
    const callee = await connectWampy(t.wsUrl, 'cbor');
    const caller = await connectAutobahn(t.wsUrl, { serializer: 'msgpack' });
    await callee.register('com.basic.cross', ({ argsList, argsDict }) => ({ argsList: [...(argsList ?? []), 'back'], argsDict }));
    const r = await caller.session.call('com.basic.cross', ['there'], { k: [1, 2] }) as autobahn.Result;
    assert.deepEqual(r.args, ['there', 'back']);
    assert.deepEqual(r.kwargs, { k: [1, 2] });
    await caller.close();
    await callee.disconnect();
  });

  it('routes between a RawSocket callee and a WebSocket caller', async () => {
    const callee = await connectAutobahn(t.wsUrl, { rawsocketPort: t.rawPort });
    await callee.session.register('com.basic.raw', (args, kwargs) => new autobahn.Result(args, kwargs));
    const caller = await connectWampy(t.wsUrl, 'msgpack');
    const r = await caller.call('com.basic.raw', { argsList: ARGS, argsDict: KWARGS });
    assert.deepEqual([r.argsList, r.argsDict], [ARGS, KWARGS]);
    await Promise.all([callee.close(), caller.disconnect()]);
  });

  it('returns a single positional result as Autobahn|JS unwraps it, and an empty result as null', async () => {
    const callee = await connectAutobahn(t.wsUrl);
    const caller = await connectAutobahn(t.wsUrl);
    await callee.session.register('com.basic.add', (args) => (args[0] as number) + (args[1] as number));
    await callee.session.register('com.basic.nothing', () => undefined);
    assert.equal(await caller.session.call('com.basic.add', [2, 3]), 5);
    assert.equal(await caller.session.call('com.basic.nothing'), null);
    await caller.close();
    await callee.close();
  });

  it('passes an application error (custom URI, args, kwargs) to the caller unchanged', async () => {
    const callee = await connectAutobahn(t.wsUrl);
    await callee.session.register('com.basic.fail', () => {
      throw new autobahn.Error('com.example.error.out_of_stock', ['widget', 3], { sku: 'W-1', left: 0 });
    });
    const wampy = await connectWampy(t.wsUrl, 'msgpack');
    await assert.rejects(wampy.call('com.basic.fail'), (e: { errorUri: string; argsList: unknown[]; argsDict: unknown }) => {
      assert.equal(e.errorUri, 'com.example.error.out_of_stock');
      assert.deepEqual(e.argsList, ['widget', 3]);
      assert.deepEqual(e.argsDict, { sku: 'W-1', left: 0 });
      return true;
    });
    const ab = await connectAutobahn(t.wsUrl, { serializer: 'cbor' });
    await assert.rejects(ab.session.call('com.basic.fail'), (e: autobahn.Error) => {
      assert.equal(e.error, 'com.example.error.out_of_stock');
      assert.deepEqual(e.args, ['widget', 3]);
      assert.deepEqual(e.kwargs, { sku: 'W-1', left: 0 });
      return true;
    });
    await Promise.all([wampy.disconnect(), ab.close(), callee.close()]);
  });

  it('answers a call to an unknown procedure with wamp.error.no_such_procedure', async () => {
    const caller = await connectAutobahn(t.wsUrl);
    await assert.rejects(caller.session.call('com.basic.nobody'), (e: autobahn.Error) => e.error === 'wamp.error.no_such_procedure');
    await caller.close();
  });

  it('unregisters: later calls get no_such_procedure, a second UNREGISTER gets no_such_registration', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    const caller = await connectAutobahn(t.wsUrl);
    const reg = await callee.register('com.basic.short_lived');
    const call = caller.session.call('com.basic.short_lived', [1]);
    const inv = await callee.invocation(reg);
    callee.yield(inv[1] as number, ['ok']);
    assert.equal(await call, 'ok');
    for (const expected of [M.UNREGISTERED, M.ERROR]) {
      const r = callee.nextId();
      callee.send([M.UNREGISTER, r, reg]);
      const m = await callee.next((x) => (x[0] === M.UNREGISTERED && x[1] === r) || (x[0] === M.ERROR && x[2] === r));
      assert.equal(m[0], expected);
      if (expected === M.ERROR) {
        assert.equal(m[1], M.UNREGISTER);
        assert.equal(m[4], 'wamp.error.no_such_registration');
      }
    }
    await assert.rejects(caller.session.call('com.basic.short_lived'), (e: autobahn.Error) => e.error === 'wamp.error.no_such_procedure');
    // Another session cannot unregister a registration it does not hold.
    const other = await RawPeer.connect(t.wsUrl);
    const reg2 = await callee.register('com.basic.owned');
    const r = other.nextId();
    other.send([M.UNREGISTER, r, reg2]);
    const m = await other.next((x) => x[0] === M.ERROR && x[2] === r);
    assert.equal(m[4], 'wamp.error.no_such_registration');
    await Promise.all([callee.goodbye(), other.goodbye(), caller.close()]);
  });

  it('refuses a second registration of a single procedure with wamp.error.procedure_already_exists', async () => {
    const a = await connectAutobahn(t.wsUrl);
    const b = await connectAutobahn(t.wsUrl);
    await a.session.register('com.basic.single', () => 'a');
    await assert.rejects(b.session.register('com.basic.single', () => 'b'), (e: autobahn.Error) => e.error === 'wamp.error.procedure_already_exists');
    // The same session registering twice is refused too.
    await assert.rejects(a.session.register('com.basic.single', () => 'a2'), (e: autobahn.Error) => e.error === 'wamp.error.procedure_already_exists');
    assert.equal(await b.session.call('com.basic.single'), 'a');
    await Promise.all([a.close(), b.close()]);
  });

  it('answers invalid and reserved procedure URIs with wamp.error.invalid_uri, and the session goes on', async () => {
    const p = await RawPeer.connect(t.wsUrl);
    const cases: [number, unknown[]][] = [];
    for (const [type, opts, uri] of [
      [M.REGISTER, {}, 'com.bad uri'],
      [M.REGISTER, {}, 'com..empty'],
      [M.REGISTER, {}, 'wamp.session.mine'],
      [M.REGISTER, { match: 'prefix' }, 'com.bad prefix.'],
      [M.CALL, {}, 'com.bad#call'],
      [M.CALL, {}, 'com..call'],
    ] as const) {
      const r = p.nextId();
      p.send([type, r, opts, uri]);
      cases.push([r, await p.next((x) => x[0] === M.ERROR && x[2] === r)]);
    }
    for (const [r, m] of cases) {
      assert.equal(m[2], r);
      assert.equal(m[4], 'wamp.error.invalid_uri', JSON.stringify(m));
      assert.equal(typeof (m[5] as unknown[])[0], 'string');
    }
    assert.ok((await p.register('com.basic.after_errors')) > 0);
    await p.goodbye();
  });

  it('answers bad REGISTER and CALL option values with wamp.error.invalid_argument, naming the option', async () => {
    const p = await RawPeer.connect(t.wsUrl);
    await p.register('com.basic.target');
    for (const [type, opts] of [
      [M.REGISTER, { invoke: 'sideways' }],
      [M.REGISTER, { match: 'regex' }],
      [M.REGISTER, { concurrency: 0 }],
      [M.REGISTER, { concurrency: 'many' }],
      [M.CALL, { timeout: -5 }],
      [M.CALL, { receive_progress: 'yes' }],
    ] as const) {
      const r = p.nextId();
      p.send([type, r, opts, type === M.CALL ? 'com.basic.target' : 'com.basic.other']);
      const m = await p.next((x) => x[0] === M.ERROR && x[2] === r);
      assert.equal(m[1], type);
      assert.equal(m[4], 'wamp.error.invalid_argument', JSON.stringify(m));
      assert.match(String((m[5] as unknown[])[0]), new RegExp(`Options\\.${Object.keys(opts)[0]}`));
    }
    assert.equal(p.isOpen, true);
    await p.goodbye();
    assert.deepEqual(pendingState(t), IDLE);
  });

  it('enforces role permissions: wamp.error.not_authorized for a role lacking call or register', async () => {
    const a = await connectAutobahn(t.wsUrl);
    const b = await connectWampy(t.wsUrl);
    // com.registeronly.*: register allowed, call not.
    await a.session.register('com.registeronly.proc', () => 'never called');
    await assert.rejects(a.session.call('com.registeronly.proc'), (e: autobahn.Error) => e.error === 'wamp.error.not_authorized');
    await assert.rejects(b.call('com.registeronly.proc'), (e: { errorUri: string }) => e.errorUri === 'wamp.error.not_authorized');
    // com.callonly.*: call allowed, register not.
    await assert.rejects(a.session.register('com.callonly.proc', () => 1), (e: autobahn.Error) => e.error === 'wamp.error.not_authorized');
    await assert.rejects(b.call('com.callonly.proc'), (e: { errorUri: string }) => e.errorUri === 'wamp.error.no_such_procedure');
    await Promise.all([a.close(), b.disconnect()]);
  });

  describe('caller identification', () => {
    it('discloses caller, caller_authid and caller_authrole when the caller asks with disclose_me', async () => {
      const callee = await connectWampy(t.wsUrl);
      const caller = await connectAutobahn(t.wsUrl);
      const details: Record<string, unknown>[] = [];
      await callee.register('com.basic.who', ({ details: d }) => {
        details.push(d);
        return { argsList: [] };
      });
      await caller.session.call('com.basic.who', [], {}, { disclose_me: true });
      await caller.session.call('com.basic.who');
      assert.equal(details[0]!.caller, caller.session.id);
      assert.equal(details[0]!.caller_authrole, 'anonymous');
      assert.equal(typeof details[0]!.caller_authid, 'string');
      assert.equal(details[0]!.caller_authid, caller.details.authid);
      assert.equal(details[1]!.caller, undefined);
      assert.equal(details[1]!.caller_authid, undefined);
      await Promise.all([caller.close(), callee.disconnect()]);
    });

    it('discloses the caller when the callee registered with disclose_caller', async () => {
      const callee = await connectAutobahn(t.wsUrl);
      const caller = await connectWampy(t.wsUrl);
      await callee.session.register('com.basic.who2', (_a, _k, d) => new autobahn.Result([d.caller, d.caller_authrole]), { disclose_caller: true });
      const r = await caller.call('com.basic.who2');
      assert.deepEqual(r.argsList, [caller.getSessionId(), 'anonymous']);
      await Promise.all([callee.close(), caller.disconnect()]);
    });

    it('discloses the caller when the role permission says disclose.caller', async () => {
      const callee = await connectAutobahn(t.wsUrl);
      const caller = await connectAutobahn(t.wsUrl);
      await callee.session.register('com.disclosed.who', (_a, _k, d) => d.caller ?? null);
      assert.equal(await caller.session.call('com.disclosed.who'), caller.session.id);
      await Promise.all([callee.close(), caller.close()]);
    });
  });
});
