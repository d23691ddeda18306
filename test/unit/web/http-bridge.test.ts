/**
 * The HTTP bridge's pure parts: Crossbar.io's signature (against a vector from Python's hmac, as
 * crossbarconnect computes it), its timestamp and integer rules, the replay guard, `require_ip`
 * networks as Python reads them, Python's argument rules, the caller's result shape, Twisted's
 * header names, and the config the services take.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridgeNetworkList, toCidr } from '../../../src/network/bridge-networks.js';
import { pythonJson } from '../../../src/web/services/rest/answers.js';
import { resultBody } from '../../../src/web/services/rest/caller.js';
import { PythonTypeError, publishOptions, starArgs, starKwargs } from '../../../src/web/services/rest/python-payload.js';
import { ReplayGuard, bridgeSignature, isPythonInt, parseBridgeTimestamp } from '../../../src/web/services/rest/signature.js';
import { twistedHeaderName } from '../../../src/web/services/rest/webhook.js';
import { NodeDir } from '../../helpers/crossbar-node.js';
import { loadConfigFile } from '../../../src/config/load.js';

describe('HTTP bridge signature', () => {
  it('is base64url(HMAC-SHA256(secret, key|timestamp|seq|nonce|body)) with padding, as Python computes it', () => {
    const sig = bridgeSignature('secret', 'foobar', '2011-10-14T16:59:51.123Z', '1', '12345', Buffer.from('{"topic":"com.myapp.topic1"}'));
    assert.equal(sig, 'rPzlwHmOz-zgOJiAEfPbHZzxzAxxrkFCdlPhgn9THn0=');
  });

  it('reads timestamps as strptime("%Y-%m-%dT%H:%M:%S.%fZ") does', () => {
    assert.equal(parseBridgeTimestamp('2011-10-14T16:59:51.123Z'), Date.UTC(2011, 9, 14, 16, 59, 51, 123));
    assert.equal(parseBridgeTimestamp('2011-1-4T6:5:1.5Z'), Date.UTC(2011, 0, 4, 6, 5, 1, 500));
    for (const bad of ['2011-10-14T16:59:51Z', '2011-10-14 16:59:51.123Z', '2011-02-30T00:00:00.0Z', '2011-10-14T24:00:00.0Z', '2011-10-14T16:59:51.1234567Z', 'x']) {
      assert.equal(parseBridgeTimestamp(bad), undefined, bad);
    }
  });

  it('takes seq and nonce as Python\'s int() does', () => {
    for (const ok of ['0', '12', ' 12 ', '+3', '-3', '1_000']) assert.ok(isPythonInt(ok), ok);
    for (const bad of ['', 'a', '1.5', '1__0', '_1', '0x10']) assert.ok(!isPythonInt(bad), bad);
  });

  it('a replay guard admits a signature once, forgets it after its window, and stays bounded', () => {
    const g = new ReplayGuard(10_000, 3);
    assert.ok(g.admit('a', 1000, 1000));
    assert.ok(!g.admit('a', 1000, 2000));
    assert.ok(g.admit('b', 1000, 2000));
    // a's timestamp is out of the window at 11 001: forgotten (it would be refused as stale anyway).
    assert.ok(g.admit('c', 11_001, 11_001));
    assert.equal(g.size, 1);
    for (const s of ['d', 'e', 'f', 'g']) g.admit(s, 11_001, 11_001);
    assert.equal(g.size, 3);
  });
});

describe('HTTP bridge require_ip networks', () => {
  it('reads addresses, prefixes and Python\'s netmask notation, clearing host bits', () => {
    assert.equal(toCidr('127.0.0.1'), '127.0.0.1/32');
    assert.equal(toCidr('192.168.1.1/255.255.255.0'), '192.168.1.0/24');
    assert.equal(toCidr('10.1.2.3/8'), '10.0.0.0/8');
    assert.equal(toCidr('::1'), '::1/128');
    assert.ok(typeof toCidr('192.168.1.1/255.0.255.0') !== 'string');
    assert.ok(typeof toCidr('localhost') !== 'string');
    const list = bridgeNetworkList(['192.168.1.1/255.255.255.0', '127.0.0.1']);
    assert.ok(list.contains('192.168.1.77') && list.contains('127.0.0.1') && list.contains('::ffff:127.0.0.1'));
    assert.ok(!list.contains('192.168.2.1') && !list.contains('127.0.0.2'));
  });
});

describe('HTTP bridge payloads', () => {
  it('spreads args and kwargs as Python\'s * and ** do', () => {
    assert.deepEqual(starArgs(undefined), []);
    assert.deepEqual(starArgs(0), []);
    assert.deepEqual(starArgs([1, 2]), [1, 2]);
    assert.deepEqual(starArgs('ab'), ['a', 'b']);
    assert.deepEqual(starArgs({ x: 1 }), ['x']);
    assert.throws(() => starArgs(5), PythonTypeError);
    assert.deepEqual(starKwargs(null), {});
    assert.throws(() => starKwargs([1]), PythonTypeError);
  });

  it('passes the publish options Autobahn\'s PublishOptions takes, acknowledged', () => {
    assert.deepEqual(publishOptions(undefined), { acknowledge: true });
    assert.deepEqual(publishOptions({ exclude: 5, eligible_authrole: 'a', retain: true, other: 1 }), { acknowledge: true, exclude: [5], eligible_authrole: ['a'], retain: true });
    assert.throws(() => publishOptions({ exclude: 'x' }), PythonTypeError);
    assert.throws(() => publishOptions({ forward_for: [{ session: 1 }] }), PythonTypeError);
    assert.throws(() => publishOptions([1]), PythonTypeError);
  });

  it('answers call results as Autobahn|Python returns them', () => {
    assert.deepEqual(resultBody([], {}), { args: [null] });
    assert.deepEqual(resultBody([3], {}), { args: [3] });
    assert.deepEqual(resultBody([1, 2], {}), { args: [1, 2] });
    assert.deepEqual(resultBody([], { c: 1 }), { kwargs: { c: 1 } });
    assert.deepEqual(resultBody([1], { c: 1 }), { args: [1], kwargs: { c: 1 } });
  });

  it('writes failures with Python json.dumps\' defaults', () => {
    assert.equal(pythonJson({ error: 'x', args: [1, 'é'], kwargs: {} }), '{"error": "x", "args": [1, "\\u00e9"], "kwargs": {}}');
  });

  it('spells header names as Twisted does', () => {
    assert.equal(twistedHeaderName('content-type'), 'Content-Type');
    assert.equal(twistedHeaderName('X-HUB-SIGNATURE'), 'X-Hub-Signature');
    assert.equal(twistedHeaderName('etag'), 'ETag');
    assert.equal(twistedHeaderName('dnt'), 'DNT');
  });
});

describe('HTTP bridge config', () => {
  const load = async (paths: Record<string, unknown>) => {
    const dir = new NodeDir();
    try {
      const file = dir.write('.crossbar/config.json', JSON.stringify({
        version: 2,
        workers: [{ type: 'router', realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [] }] }], transports: [{ type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths }] }],
      }));
      return await loadConfigFile(file);
    } finally {
      dir.remove();
    }
  };

  it('fills in Crossbar.io\'s defaults', async () => {
    const c = await load({ p: { type: 'publisher', realm: 'realm1', role: 'anonymous' }, w: { type: 'webhook', realm: 'realm1', role: 'anonymous', options: { topic: 'a.b' } } });
    const t = c.transports[0]!;
    assert.ok(t.type === 'web');
    assert.deepEqual(t.paths.get('p'), { type: 'publisher', realm: 'realm1', role: 'anonymous', checks: { requireTls: false, postBodyLimit: 0, timestampDeltaLimit: 300, json: true } });
    assert.deepEqual(t.paths.get('w'), {
      type: 'webhook', realm: 'realm1', role: 'anonymous', topic: 'a.b', successResponse: 'OK', errorResponse: 'NOT OK',
      checks: { requireTls: false, postBodyLimit: 0, timestampDeltaLimit: 300, json: false },
    });
  });

  it('refuses what Crossbar.io\'s checker refuses, and roles that do not exist', async () => {
    await assert.rejects(load({ p: { type: 'publisher', realm: 'realm1' } }), /role/);
    await assert.rejects(load({ p: { type: 'caller', realm: 'realm1', role: 'anonymous', options: { post_body_limit: 2 ** 20 + 1 } } }), /post_body_limit/);
    await assert.rejects(load({ p: { type: 'caller', realm: 'realm1', role: 'anonymous', options: { timestamp_delta_limit: 86_401 } } }), /timestamp_delta_limit/);
    await assert.rejects(load({ p: { type: 'publisher', realm: 'realm1', role: 'anonymous', options: { require_ip: ['nowhere'] } } }), /require_ip/);
    await assert.rejects(load({ p: { type: 'webhook', realm: 'realm1', role: 'anonymous', options: { topic: 'a', key: 'k' } } }), /key/);
    await assert.rejects(load({ p: { type: 'publisher', realm: 'realm1', role: 'nobody' } }), /no role "nobody"/);
    await assert.rejects(load({ p: { type: 'sse', realm: 'realm1', role: 'anonymous', options: { slow_consumer: 'wait' } } }), /slow_consumer/);
  });
});
