/**
 * The session over in-process peers (no sockets): the opening handshake and its refusals, the
 * closing handshake, and protocol violations — each ends only the offending session, with ABORT
 * and the spec's reason.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MessageType as M } from '../../../src/wamp/codes.js';
import { CloseUri, ErrorUri } from '../../../src/wamp/errors.js';
import { type LocalRouter, localRouter, settle } from '../../helpers/local-router.js';


describe('session', () => {
  let r: LocalRouter;
  beforeEach(async () => {
    r = await localRouter();
  });
  afterEach(() => r.stop());

  it('answers HELLO with WELCOME: session id, identity, the router\'s roles and node', async () => {
    const p = await r.peer({ join: false });
    const [type, session, details] = await p.join();
    assert.equal(type, M.WELCOME);
    assert.ok(Number.isSafeInteger(session) && (session as number) > 0);
    const d = details as Record<string, unknown>;
    assert.equal(d.realm, 'realm1');
    assert.equal(d.authrole, 'anonymous');
    assert.equal(d.authmethod, 'anonymous');
    assert.equal(d.x_xbar_node, r.backplane.nodeId);
    assert.deepEqual(Object.keys(d.roles as object).sort(), ['broker', 'dealer']);
  });

  it('aborts a HELLO for a realm that does not exist, or with no offered auth method', async () => {
    const p = await r.peer({ join: false });
    p.send(M.HELLO, 'nowhere', { roles: { caller: {} } });
    assert.equal((await p.nextOf(M.ABORT))[2], ErrorUri.noSuchRealm);
    const q = await r.peer({ join: false });
    q.send(M.HELLO, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'] });
    assert.equal((await q.nextOf(M.ABORT))[2], ErrorUri.noAuthMethod);
  });

  it('aborts with protocol_violation: a message before HELLO, a second HELLO, a message a client may not send, garbage', async () => {
    const cases: unknown[][][] = [
      [[M.SUBSCRIBE, 1, {}, 'com.t']],
      [[M.HELLO, 'realm1', { roles: { caller: {} } }], [M.HELLO, 'realm1', { roles: { caller: {} } }]],
      [[M.HELLO, 'realm1', { roles: { caller: {} } }], [M.EVENT, 1, 2, {}]],
      [['not', 'a', 'message']],
      [[M.HELLO, 'realm1', { roles: { caller: {} } }], [M.CALL, 'x', {}, 'com.p']],
    ];
    const other = await r.peer();
    for (const messages of cases) {
      const p = await r.peer({ join: false });
      for (const m of messages) p.send(...m);
      const abort = await p.nextOf(M.ABORT);
      assert.equal(abort[2], ErrorUri.protocolViolation, JSON.stringify(messages));
      assert.equal(typeof (abort[1] as { message?: unknown }).message, 'string');
      await settle();
      assert.ok(p.closed, 'the connection closes after ABORT');
    }
    // Nobody else is touched.
    const req = other.call('com.none');
    assert.equal((await other.nextOf(M.ERROR, req))[4], ErrorUri.noSuchProcedure);
  });

  it('answers GOODBYE with GOODBYE wamp.close.goodbye_and_out, and the session leaves its realm', async () => {
    const p = await r.peer();
    const realm = r.router.realm('realm1')!;
    assert.ok(realm.sessions.has(p.session));
    p.send(M.GOODBYE, {}, CloseUri.normal);
    assert.deepEqual(await p.nextOf(M.GOODBYE), [M.GOODBYE, {}, CloseUri.goodbyeAndOut]);
    await settle();
    assert.ok(!realm.sessions.has(p.session));
    assert.ok(p.closed);
  });

  it('says GOODBYE wamp.close.system_shutdown to every session when the router shuts down', async () => {
    const [a, b] = [await r.peer(), await r.peer()];
    const shutdown = r.router.shutdown(2000);
    for (const p of [a, b]) {
      assert.equal((await p.nextOf(M.GOODBYE))[2], CloseUri.systemShutdown);
      p.send(M.GOODBYE, {}, CloseUri.goodbyeAndOut);
    }
    await shutdown;
    assert.equal(r.router.connectionCount, 0);
  });
});
