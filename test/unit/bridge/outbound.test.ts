/**
 * The outbound bridge's pure parts: how a RESTCallee call binds to Crossbar.io's
 * `on_call(method, url, body, headers, params)`, the retry back-off, and the components' config
 * (recognized by class name, Crossbar.io's required extra keys).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restRequest } from '../../../src/bridge/rest-callee.js';
import { retryDelay } from '../../../src/bridge/retry.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { EXAMPLE_REALM, NodeDir } from '../../helpers/crossbar-node.js';

describe('RESTCallee call binding', () => {
  it('binds positional and keyword arguments as Python does, resolving url against baseurl', () => {
    const r = restRequest('http://api.example/v1/', ['get', 'items'], { params: { q: 'x' }, headers: { 'X-A': ['1', '2'], 'X-B': 'b' } });
    assert.equal(r.method, 'GET');
    assert.equal(r.url, 'http://api.example/v1/items?q=x');
    assert.equal(r.headers.get('x-a'), '1, 2');
    assert.equal(r.headers.get('x-b'), 'b');
    assert.equal(r.body, '');
    assert.equal(restRequest('http://api.example/v1/', [], { method: 'POST', url: '/root', body: '{}' }).url, 'http://api.example/root');
  });

  it('refuses what on_call would fail on', () => {
    assert.throws(() => restRequest('http://a/', [], { url: 'x' }), /method/);
    assert.throws(() => restRequest('http://a/', ['GET'], {}), /url/);
    assert.throws(() => restRequest('http://a/', ['GET', 'x'], { nope: 1 }), /unexpected keyword argument 'nope'/);
    assert.throws(() => restRequest('http://a/', ['GET', 'ftp://x/'], {}), /not an HTTP URL/);
    assert.throws(() => restRequest('http://a/', ['GET', 'x', 5], {}), /body/);
  });
});

describe('retry back-off', () => {
  it('doubles from the first delay up to the cap, with ±20 % jitter', () => {
    const p = { attempts: 5, backoff: 100, maxBackoff: 1000 };
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(p, n, () => 0.5)), [100, 200, 400, 800, 1000]);
    assert.equal(retryDelay(p, 1, () => 0), 80);
    assert.equal(retryDelay(p, 1, () => 1), 120);
  });
});

describe('outbound component config', () => {
  const load = async (components: unknown[], container = false) => {
    const dir = new NodeDir();
    try {
      const router = { type: 'router', realms: [EXAMPLE_REALM], transports: [{ type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths: { ws: { type: 'websocket' } } }] };
      const transport = { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: 8080 }, url: 'ws://127.0.0.1:8080/ws' };
      const workers = container
        ? [router, { type: 'container', components: components.map((c) => ({ ...(c as object), transport })) }]
        : [{ ...router, components }];
      return await loadConfigFile(dir.write('.crossbar/config.json', JSON.stringify({ version: 2, workers })));
    } finally {
      dir.remove();
    }
  };

  it('takes the two class names out of the Python workers, with Crossbar.io\'s keys and xbar\'s defaults', async () => {
    const c = await load([{ type: 'class', classname: 'crossbar.bridge.rest.MessageForwarder', realm: 'realm1', extra: { subscriptions: [{ topic: 'a.b', url: 'http://127.0.0.1:1/x' }] } }], true);
    assert.equal(c.workers, undefined);
    assert.deepEqual(c.outbound, [{
      id: 'bridge1', realm: 'realm1', role: 'anonymous', attempts: 5, backoff: 200, maxBackoff: 10_000, requestTimeout: 10_000,
      classname: 'crossbar.bridge.rest.MessageForwarder', subscriptions: [{ topic: 'a.b', url: 'http://127.0.0.1:1/x', match: 'exact' }],
      method: 'POST', maxQueueBytes: 4 * 1024 * 1024,
    }]);
  });

  it('refuses what Crossbar.io asserts at join, and bad tuning', async () => {
    await assert.rejects(load([{ type: 'class', classname: 'crossbar.bridge.rest.RESTCallee', realm: 'realm1', extra: { procedure: 'p' } }]), /baseurl/);
    await assert.rejects(load([{ type: 'class', classname: 'crossbar.bridge.rest.RESTCallee', realm: 'realm1', extra: { baseurl: 'http://x/' } }]), /procedure/);
    await assert.rejects(load([{ type: 'class', classname: 'crossbar.bridge.rest.MessageForwarder', realm: 'realm1', extra: {} }]), /subscriptions/);
    await assert.rejects(load([{ type: 'class', classname: 'crossbar.bridge.rest.MessageForwarder', realm: 'realm1', extra: { subscriptions: [{ topic: 'a', url: 'ftp://x' }] } }]), /subscriptions/);
    await assert.rejects(load([{ type: 'class', classname: 'crossbar.bridge.rest.MessageForwarder', realm: 'realm1', extra: { subscriptions: [], max_queue_bytes: -1 } }]), /max_queue_bytes/);
  });
});
