import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LocalClient, WampError } from '../../../src/client/local-client.js';
import { connectAutobahn } from '../../helpers/clients.js';
import { startNode, type TestNode } from '../../helpers/node.js';

describe('in-process LocalClient (used by router components)', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it('joins with role "trusted" and exchanges events with an Autobahn|JS session, bytes intact', async () => {
    const local = await LocalClient.join(t.node.router, 'realm1', { authid: 'bridge', authrole: 'trusted' });
    const remote = await connectAutobahn(t.wsUrl, { serializer: 'msgpack' });
    let got!: (v: unknown) => void;
    const fromLocal = new Promise((r) => (got = r));
    await remote.session.subscribe('com.local.out', (args, _kw, details) => got([args, details.publisher_authrole]));
    await local.publish('com.local.out', [new Uint8Array([0, 1, 255])], undefined, { acknowledge: true, disclose_me: true });
    const [args, role] = (await fromLocal) as [unknown[], string];
    assert.deepEqual(new Uint8Array(args[0] as Uint8Array), new Uint8Array([0, 1, 255]));
    assert.equal(role, 'trusted');

    let heard!: (v: unknown) => void;
    const fromRemote = new Promise((r) => (heard = r));
    await local.subscribe('com.local.in', (a, kw) => heard([a, kw]));
    await remote.session.publish('com.local.in', ['hi'], { x: 1 }, { acknowledge: true });
    assert.deepEqual(await fromRemote, [['hi'], { x: 1 }]);
    local.close();
    await remote.close();
  });

  it('registers a procedure that Autobahn|JS calls, and calls one Autobahn|JS registered', async () => {
    const local = await LocalClient.join(t.node.router, 'realm1', { authid: 'svc', authrole: 'trusted' });
    const remote = await connectAutobahn(t.wsUrl);
    await local.register('com.local.add', (args) => ({ args: [(args![0] as number) + (args![1] as number)] }));
    assert.equal(await remote.session.call('com.local.add', [2, 3]), 5);
    await remote.session.register('com.remote.echo', (args) => args[0]);
    assert.deepEqual((await local.call('com.remote.echo', ['x'])).args, ['x']);
    await assert.rejects(local.call('com.nope'), (e: unknown) => e instanceof WampError && e.uri === 'wamp.error.no_such_procedure');
    local.close();
    await remote.close();
  });

  it('is reported by the meta API as an in-process peer: framing "native", not secure', async () => {
    const local = await LocalClient.join(t.node.router, 'realm1', { authid: 'component', authrole: 'anonymous' });
    const remote = await connectAutobahn(t.wsUrl);
    const d = (await remote.session.call('wamp.session.get', [local.sessionId])) as { transport: Record<string, unknown> };
    assert.equal(d.transport.type, 'native');
    assert.equal(d.transport.is_secure, false);
    assert.equal(d.transport.peer, 'local:component');
    local.close();
    await remote.close();
  });
});
