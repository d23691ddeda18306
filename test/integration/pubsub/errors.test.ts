/**
 * Refusals in publish/subscribe: authorization by role (wamp.error.not_authorized), the router's
 * reserved `wamp.` namespace, and URI validation (loose by default, strict per realm), all as
 * ERROR to the one request, answered for PUBLISH only when acknowledged, leaving the session usable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Action, Permission, TransportConfig } from '../../../src/config/types.js';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { ALLOW_ALL, SESSION_DEFAULTS, startNode, type TestNode } from '../../helpers/node.js';
import { autobahnInbox, LIMIT, RawWamp, W } from './support.js';

function permission(uri: string, match: Permission['match'], allow: Partial<Record<Action, boolean>>): Permission {
  return {
    uri, match, allow: { call: false, register: false, publish: false, subscribe: false, ...allow },
    disclose: { caller: false, publisher: false }, cache: true,
  };
}

/** May call and register anything, but publish and subscribe only under errors.allowed. */
const RESTRICTED: Permission[] = [
  permission('', 'prefix', { call: true, register: true }),
  permission('errors.allowed', 'prefix', { publish: true, subscribe: true }),
];

const RESTRICTED_TRANSPORT: TransportConfig = {
  type: 'web', id: 'web-restricted', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 },
  paths: new Map([['ws', {
    type: 'websocket', ...SESSION_DEFAULTS, autoPingInterval: 0, autoPingTimeout: 10_000,
    auth: { anonymous: { type: 'static', role: 'restricted' } },
  }]]),
};

const isError = (uri: string) => (e: unknown): boolean => {
  assert.equal((e as { error?: unknown }).error, uri);
  assert.equal(typeof (e as { args: unknown[] }).args[0], 'string', 'a human-readable message in args[0]');
  return true;
};

/** [ERROR, REQUEST.Type, REQUEST.Request, Details, Error, [message]] with a string message. */
function assertError(m: unknown[], requestType: number, request: number, uri: string): void {
  assert.deepEqual(m.slice(0, 5), [W.ERROR, requestType, request, {}, uri], JSON.stringify(m));
  assert.equal(m.length, 6);
  assert.equal(typeof (m[5] as unknown[])[0], 'string');
}

describe('publish/subscribe refusals', () => {
  let node: TestNode;
  let restrictedUrl: string;
  let restricted: AutobahnClient;
  let anon: AutobahnClient;
  let watcher: AutobahnClient;

  before(async () => {
    node = await startNode({
      realms: [
        { name: 'realm1', uriCheck: 'loose', roles: [{ name: 'anonymous', permissions: [ALLOW_ALL] }, { name: 'restricted', permissions: RESTRICTED }] },
        { name: 'strict', uriCheck: 'strict', roles: [{ name: 'anonymous', permissions: [ALLOW_ALL] }] },
      ],
      extraTransports: [RESTRICTED_TRANSPORT],
    });
    restrictedUrl = `ws://127.0.0.1:${node.node.addresses.find((x) => x.transport === 'web-restricted')!.port}/ws`;
    restricted = await connectAutobahn(restrictedUrl, { serializer: 'json' });
    anon = await connectAutobahn(node.wsUrl, { serializer: 'msgpack' });
    watcher = await connectAutobahn(node.wsUrl, { serializer: 'cbor' });
  }, LIMIT);

  after(async () => {
    await Promise.all([restricted?.close(), anon?.close(), watcher?.close()]);
    await node?.stop();
  }, LIMIT);

  describe('authorization', () => {
    it('refuses SUBSCRIBE from a role without subscribe permission with ERROR wamp.error.not_authorized', LIMIT, async () => {
      await assert.rejects(restricted.session.subscribe('errors.denied', () => {}), isError('wamp.error.not_authorized'));
      const raw = await RawWamp.join(restrictedUrl);
      try {
        const request = raw.request();
        raw.send([W.SUBSCRIBE, request, {}, 'errors.denied']);
        assertError(await raw.next(), W.SUBSCRIBE, request, 'wamp.error.not_authorized');
        // Pattern subscriptions are authorized on their pattern too.
        const pattern = await raw.subscribe('errors', { match: 'prefix' });
        assertError(pattern, W.SUBSCRIBE, pattern[2] as number, 'wamp.error.not_authorized');
        assert.equal((await raw.subscribe('errors.allowed.topic'))[0], W.SUBSCRIBED, 'what the role grants still works');
      } finally {
        await raw.close();
      }
    });

    it('refuses an acknowledged PUBLISH from a role without publish permission and delivers nothing', LIMIT, async () => {
      const { inbox } = await autobahnInbox(watcher.session, 'errors', { match: 'prefix' });
      await assert.rejects(restricted.session.publish('errors.denied', ['denied'], {}, { acknowledge: true })!, isError('wamp.error.not_authorized'));
      restricted.session.publish('errors.denied', ['denied, unacknowledged']);
      await restricted.session.publish('errors.allowed.marker', ['marker'], {}, { acknowledge: true });
      const ev = await inbox.next();
      assert.deepEqual(ev.args, ['marker'], 'the refused publications never reached the subscriber');
      assert.equal(restricted.session.isOpen, true);
    });

    it('answers a refused PUBLISH without acknowledge with nothing at all', LIMIT, async () => {
      const raw = await RawWamp.join(restrictedUrl);
      try {
        raw.send([W.PUBLISH, 1, {}, 'errors.denied', ['x']]);
        raw.send([W.PUBLISH, 2, { acknowledge: true }, 'errors.allowed.x']);
        const reply = await raw.next();
        assert.deepEqual([reply[0], reply[1]], [W.PUBLISHED, 2]);
      } finally {
        await raw.close();
      }
    });
  });

  describe('reserved and invalid URIs', () => {
    it('refuses PUBLISH to a wamp. topic with ERROR wamp.error.invalid_uri and delivers nothing', LIMIT, async () => {
      const { inbox: reserved } = await autobahnInbox(watcher.session, 'wamp.xbar.test');
      const { inbox: marker } = await autobahnInbox(watcher.session, 'errors.reserved.marker');
      await assert.rejects(anon.session.publish('wamp.xbar.test', ['forged'], {}, { acknowledge: true })!, isError('wamp.error.invalid_uri'));
      await assert.rejects(anon.session.publish('wamp.session.on_join', [{}], {}, { acknowledge: true })!, isError('wamp.error.invalid_uri'));
      await anon.session.publish('errors.reserved.marker', ['marker'], {}, { acknowledge: true });
      assert.deepEqual((await marker.next()).args, ['marker']);
      assert.equal(reserved.pending.length, 0, 'the wamp. topic got no event');
    });

    const BAD_TOPICS = ['a..b', 'a b', '.a', 'a.', '', 'a#b', 'com.foo\tbar', 'a.b c.d'];

    it('answers PUBLISH and SUBSCRIBE on an invalid URI with ERROR wamp.error.invalid_uri and keeps the session usable', LIMIT, async () => {
      const raw = await RawWamp.join(node.wsUrl);
      try {
        for (const topic of BAD_TOPICS) {
          const published = await raw.publish(topic, { acknowledge: true }, ['x']);
          assertError(published!, W.PUBLISH, published![2] as number, 'wamp.error.invalid_uri');
          const subscribed = await raw.subscribe(topic);
          assertError(subscribed, W.SUBSCRIBE, subscribed[2] as number, 'wamp.error.invalid_uri');
        }
        const id = await raw.subscribed('errors.still.usable');
        raw.send([W.PUBLISH, raw.request(), { acknowledge: true, exclude_me: false }, 'errors.still.usable', ['ok']]);
        const got = [await raw.next(), await raw.next()].sort((x, y) => (x[0] as number) - (y[0] as number));
        assert.equal(got[0]![0], W.PUBLISHED);
        assert.deepEqual([got[1]![0], got[1]![1], got[1]![4]], [W.EVENT, id, ['ok']]);
      } finally {
        await raw.close();
      }
    });

    it('sends no ERROR for an unacknowledged PUBLISH on an invalid URI', LIMIT, async () => {
      const raw = await RawWamp.join(node.wsUrl);
      try {
        raw.send([W.PUBLISH, 1, {}, 'a..b', ['x']]);
        raw.send([W.PUBLISH, 2, { acknowledge: false }, 'a b']);
        raw.send([W.PUBLISH, 3, { acknowledge: true }, 'errors.valid']);
        const reply = await raw.next();
        assert.deepEqual([reply[0], reply[1]], [W.PUBLISHED, 3]);
      } finally {
        await raw.close();
      }
      // Autobahn|JS takes such an ERROR as a protocol violation and would drop its session.
      anon.session.publish('a b', ['x']);
      await anon.session.publish('errors.valid', [], {}, { acknowledge: true });
      assert.equal(anon.session.isOpen, true);
    });

    it('accepts empty URI components only where the match policy allows them', LIMIT, async () => {
      const raw = await RawWamp.join(node.wsUrl);
      try {
        assert.equal((await raw.subscribe('a..b', { match: 'wildcard' }))[0], W.SUBSCRIBED);
        assert.equal((await raw.subscribe('a.', { match: 'prefix' }))[0], W.SUBSCRIBED);
        const prefixWithGap = await raw.subscribe('a..b', { match: 'prefix' });
        assertError(prefixWithGap, W.SUBSCRIBE, prefixWithGap[2] as number, 'wamp.error.invalid_uri');
        const wildcardWithSpace = await raw.subscribe('a. .b', { match: 'wildcard' });
        assertError(wildcardWithSpace, W.SUBSCRIBE, wildcardWithSpace[2] as number, 'wamp.error.invalid_uri');
      } finally {
        await raw.close();
      }
    });

    it('rejects "Com.Foo" on a realm with strict URI checking and accepts it on a loose one', LIMIT, async () => {
      const strict = await connectAutobahn(node.wsUrl, { serializer: 'json', realm: 'strict' });
      try {
        await assert.rejects(strict.session.subscribe('Com.Foo', () => {}), isError('wamp.error.invalid_uri'));
        await assert.rejects(strict.session.publish('Com.Foo', [], {}, { acknowledge: true })!, isError('wamp.error.invalid_uri'));
        await assert.rejects(strict.session.subscribe('com.foo-bar', () => {}), isError('wamp.error.invalid_uri'));
        await assert.rejects(strict.session.subscribe('com.Foo', () => {}, { match: 'prefix' }), isError('wamp.error.invalid_uri'));
        const { inbox } = await autobahnInbox(strict.session, 'com.foo_1.bar');
        await strict.session.publish('com.foo_1.bar', ['strict ok'], {}, { acknowledge: true, exclude_me: false });
        assert.deepEqual((await inbox.next()).args, ['strict ok']);
      } finally {
        await strict.close();
      }
      const { inbox } = await autobahnInbox(watcher.session, 'Com.Foo');
      await anon.session.publish('Com.Foo', ['loose ok'], {}, { acknowledge: true });
      assert.deepEqual((await inbox.next()).args, ['loose ok']);
    });
  });
});
