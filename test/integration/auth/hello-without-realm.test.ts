/**
 * HELLO without a realm (null), as Crossbar.io takes it (`PendingAuth._assign_principal`): the
 * principal's configured `realm` (static) or the realm a dynamic authenticator returns assigns
 * it — and overrides the one a HELLO names; the authid likewise. With no realm from either the
 * session is refused with `wamp.error.no_such_realm`. Autobahn|Python joins with `realm=None`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import { ALLOW_ALL, realm, runPython, startDoc, tcp, type AuthNode } from './support.js';

const dyn = (authenticator: string, authenticatorRealm?: string) => ({
  type: 'dynamic', authenticator, ...(authenticatorRealm ? { 'authenticator-realm': authenticatorRealm } : {}),
});

describe('HELLO without a realm', () => {
  let n: AuthNode;
  let base: string;
  let component: AutobahnClient;
  const asked: unknown[][] = [];

  before(async () => {
    n = await startDoc({
      realms: [
        realm('realm1', { user: [ALLOW_ALL] }),
        realm('realm2', { user: [ALLOW_ALL] }),
        realm('auth', { authenticator: [{ uri: 'com.example.', match: 'prefix', allow: { register: true } }] }),
      ],
      transports: [{
        type: 'web',
        endpoint: tcp(),
        paths: {
          backend: { type: 'websocket', auth: { ticket: { type: 'static', principals: { svc: { ticket: 'svc', role: 'authenticator', realm: 'auth' } } } } },
          static: {
            type: 'websocket',
            auth: {
              ticket: {
                type: 'static',
                principals: { alice: { ticket: 'alice-pw', role: 'user', realm: 'realm2' }, bob: { ticket: 'bob-pw', role: 'user' } },
              },
              anonymous: { type: 'static', role: 'user' },
            },
          },
          dynamic: { type: 'websocket', auth: { ticket: dyn('com.example.authenticate', 'auth') } },
          unplaced: { type: 'websocket', auth: { ticket: dyn('com.example.authenticate') } },
        },
      }],
    });
    base = `ws://127.0.0.1:${n.ports[0]}`;
    component = await connectAutobahn(`${base}/backend`, { realm: 'auth', authmethods: ['ticket'], authid: 'svc', onchallenge: () => 'svc' });
    await component.session.register('com.example.authenticate', (args) => {
      asked.push(args);
      const details = args[2] as { ticket: string };
      if (details.ticket !== 'carol-pw') throw new Error('wrong ticket');
      return { role: 'user', realm: 'realm2', authid: 'carol@example.com' };
    });
  });

  after(async () => {
    await component.close();
    await n.stop();
  });

  /** A raw HELLO with realm null; the WELCOME details, or the ABORT. */
  async function helloNull(path: string, details: Record<string, unknown>, ticket?: string): Promise<unknown[]> {
    const c = await RawWsClient.open(`${base}/${path}`);
    c.send([1, null, { roles: { subscriber: {} }, ...details }]);
    let m = await c.waitFor((x) => x[0] === 2 || x[0] === 3 || x[0] === 4);
    if (m[0] === 4) {
      c.send([5, ticket ?? '', {}]);
      m = await c.waitFor((x) => x[0] === 2 || x[0] === 3);
    }
    c.destroy();
    return m;
  }

  it('joins the realm configured for a static principal (Autobahn|Python with realm=None)', async () => {
    const r = await runPython({ url: `${base}/static`, realm: null, method: 'ticket', authid: 'alice', ticket: 'alice-pw' });
    assert.deepEqual(r.joined, { realm: 'realm2', authid: 'alice', authrole: 'user', authmethod: 'ticket', authprovider: 'static' });
  });

  it('overrides the realm a HELLO names with the principal\'s', async () => {
    const r = await runPython({ url: `${base}/static`, realm: 'realm1', method: 'ticket', authid: 'alice', ticket: 'alice-pw' });
    assert.equal(r.joined?.realm, 'realm2');
  });

  it('refuses with no_such_realm when neither HELLO nor the principal names a realm', async () => {
    const bob = await helloNull('static', { authmethods: ['ticket'], authid: 'bob' }, 'bob-pw');
    assert.deepEqual([bob[0], bob[2]], [3, 'wamp.error.no_such_realm']);
    assert.match(String((bob[1] as { message: string }).message), /^no realm assigned/);
    const anonymous = await helloNull('static', {});
    assert.deepEqual([anonymous[0], anonymous[2]], [3, 'wamp.error.no_such_realm']);
    // With a realm, bob joins it.
    const r = await runPython({ url: `${base}/static`, realm: 'realm1', method: 'ticket', authid: 'bob', ticket: 'bob-pw' });
    assert.equal(r.joined?.realm, 'realm1');
  });

  it('takes realm and authid from a dynamic authenticator, which is asked with realm and authid null', async () => {
    const raw = await helloNull('dynamic', { authmethods: ['ticket'] }, 'carol-pw');
    assert.equal(raw[0], 2, JSON.stringify(raw));
    assert.deepEqual((({ realm: r, authid, authrole }) => ({ realm: r, authid, authrole }))(raw[2] as Record<string, unknown>),
      { realm: 'realm2', authid: 'carol@example.com', authrole: 'user' });
    assert.deepEqual(asked.at(-1)!.slice(0, 2), [null, null]);
    const r = await runPython({ url: `${base}/dynamic`, realm: null, method: 'ticket', authid: 'carol', ticket: 'carol-pw' });
    assert.deepEqual(r.joined, { realm: 'realm2', authid: 'carol@example.com', authrole: 'user', authmethod: 'ticket', authprovider: 'dynamic' });
  });

  it('refuses with no_such_realm when a dynamic authenticator has no realm to be called on', async () => {
    const m = await helloNull('unplaced', { authmethods: ['ticket'], authid: 'carol' }, 'carol-pw');
    assert.deepEqual([m[0], m[2]], [3, 'wamp.error.no_such_realm']);
  });
});
