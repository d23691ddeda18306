/**
 * The HTTP bridge's inbound services as crossbar-examples' `rest/` configs set them up, driven by
 * fetch and curl, with an Autobahn|JS session on the other side: `publisher` (answers the
 * publication id; the event reaches WAMP subscribers), `caller` (results and WAMP errors as
 * Crossbar.io shapes them, the call timeout), `webhook` (headers and body as one event), and
 * every refusal of Crossbar.io's `_CommonResource` with its status and body — none of which
 * reaches the router.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { type AutobahnClient, connectAutobahn } from '../../helpers/clients.js';
import { type ConfigNode, NodeDir, curl, rawHttp, startConfigNode } from '../../helpers/crossbar-node.js';
import { eventually } from '../../helpers/eventually.js';

const ALL = { call: true, register: true, publish: true, subscribe: true };

function config(): Record<string, unknown> {
  const signed = {
    key: 'foobar', secret: 'secret', post_body_limit: 8192, timestamp_delta_limit: 10,
    require_ip: ['192.168.1.1/255.255.255.0', '127.0.0.1'], require_tls: false,
  };
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{
        name: 'realm1',
        roles: [
          { name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: ALL, disclose: { caller: false, publisher: false }, cache: true }] },
          { name: 'narrow', permissions: [{ uri: 'com.open.', match: 'prefix', allow: { publish: true, call: false, register: false, subscribe: false } }] },
        ],
      }],
      transports: [{
        type: 'web',
        endpoint: { type: 'tcp', port: 8080 },
        paths: {
          ws: { type: 'websocket' },
          publish: { type: 'publisher', realm: 'realm1', role: 'anonymous', options: { debug: true } },
          'publish-signed': { type: 'publisher', realm: 'realm1', role: 'anonymous', options: signed },
          'publish-narrow': { type: 'publisher', realm: 'realm1', role: 'narrow' },
          'publish-tls': { type: 'publisher', realm: 'realm1', role: 'anonymous', options: { require_tls: true } },
          'publish-far': { type: 'publisher', realm: 'realm1', role: 'anonymous', options: { require_ip: ['10.0.0.0/8'] } },
          call: { type: 'caller', realm: 'realm1', role: 'anonymous', options: { debug: true } },
          'call-signed': { type: 'caller', realm: 'realm1', role: 'anonymous', options: signed },
          'call-quick': { type: 'caller', realm: 'realm1', role: 'anonymous', options: { call_timeout: 1 } },
          webhook: { type: 'webhook', realm: 'realm1', role: 'anonymous', options: { topic: 'com.myapp.topic1' } },
          'webhook-narrow': { type: 'webhook', realm: 'realm1', role: 'narrow', options: { topic: 'com.closed.hook', error_response: 'nope' } },
          github: {
            type: 'webhook', realm: 'realm1', role: 'anonymous',
            options: { topic: 'com.myapp.github', github_secret: 'gh-secret', success_response: 'thanks', post_body_limit: 64 },
          },
        },
      }],
    }],
  };
}

/** Crossbar.io's documented signature, written here from the docs (not from the service's code). */
function signedQuery(body: string, o: { key?: string; secret?: string; timestamp?: string; seq?: number; nonce?: number } = {}): string {
  const key = o.key ?? 'foobar';
  const timestamp = o.timestamp ?? new Date().toISOString();
  const seq = String(o.seq ?? 1);
  const nonce = String(o.nonce ?? Math.floor(Math.random() * 2 ** 53));
  const hm = createHmac('sha256', o.secret ?? 'secret');
  for (const part of [key, timestamp, seq, nonce]) hm.update(part, 'utf8');
  hm.update(body, 'utf8');
  const signature = hm.digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
  return new URLSearchParams({ key, timestamp, seq, nonce, signature }).toString();
}

const denial = (error: string) => ({ error, args: [], kwargs: {} });

describe('HTTP bridge: publisher, caller, webhook', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let sub: AutobahnClient;
  const events: { topic: string; args: unknown[]; kwargs: Record<string, unknown> }[] = [];

  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${t.http}/${path}`, { method: 'POST', body, headers });
  const publishJson = async (path: string, body: unknown, headers?: Record<string, string>) => {
    const r = await post(path, JSON.stringify(body), headers);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  before(async () => {
    t = await startConfigNode(dir, config());
    sub = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
    for (const topic of ['com.myapp.', 'com.open.', 'com.closed.']) {
      await sub.session.subscribe(topic, (args, kwargs, details) => {
        events.push({ topic: (details as { topic: string }).topic, args: args ?? [], kwargs: kwargs ?? {} });
      }, { match: 'prefix' });
    }
    await sub.session.register('com.example.add2', (args) => (args![0] as number) + (args![1] as number));
    await sub.session.register('com.example.split_name', (args) => new autobahn.Result((args![0] as string).split(' ')));
    await sub.session.register('com.example.add_complex', (_a, kw) => new autobahn.Result([], { c: kw!.a as number + (kw!.b as number), ci: kw!.ai as number + (kw!.bi as number) }));
    await sub.session.register('com.example.nothing', () => null);
    await sub.session.register('com.example.checkname', (args) => {
      throw new autobahn.Error('com.example.error.mixed_case', [String(args![0]).toLowerCase()], { hint: 'case' });
    });
    await sub.session.register('com.example.slow', () => new Promise(() => undefined));
  });
  after(async () => {
    await sub?.close();
    await t?.stop();
    dir.remove();
  });

  const eventsOn = (topic: string) => events.filter((e) => e.topic === topic);

  describe('publisher', () => {
    it('publishes {topic, args, kwargs} and answers the publication id (fetch)', async () => {
      const r = await publishJson('publish', { topic: 'com.myapp.topic1', args: ['Hello, world', 23], kwargs: { sq: 4 } });
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body), ['id']);
      assert.ok(Number.isSafeInteger(r.body.id) && (r.body.id as number) > 0);
      await eventually(() => eventsOn('com.myapp.topic1').length === 1, 'the event');
      assert.deepEqual(eventsOn('com.myapp.topic1')[0], { topic: 'com.myapp.topic1', args: ['Hello, world', 23], kwargs: { sq: 4 } });
    });

    it('answers the examples\' curl exactly as Crossbar.io: 200 and compact JSON', async () => {
      const out = await curl(['-i', '-H', 'Content-Type: application/json', '-d', '{"topic": "com.myapp.curl", "args": ["Hello, world"]}', `${t.http}/publish`]);
      const [head, body] = out.split('\r\n\r\n');
      assert.match(head!, /^HTTP\/1\.1 200 /);
      assert.match(head!, /\r\ncontent-type: application\/json; charset=UTF-8/i);
      assert.match(head!, /\r\ncache-control: no-store,no-cache,must-revalidate,max-age=0/i);
      assert.match(head!, /\r\naccess-control-allow-origin: \*/i);
      assert.match(body!, /^\{"id":\d+\}$/);
      await eventually(() => eventsOn('com.myapp.curl').length === 1, 'the curl event');
    });

    it('applies Crossbar.io\'s publish options (eligible, exclude) from the body', async () => {
      const me = sub.session.id;
      await publishJson('publish', { topic: 'com.myapp.excluded', args: [1], options: { exclude: [me] } });
      await publishJson('publish', { topic: 'com.myapp.eligible', args: [2], options: { eligible: me } });
      await eventually(() => eventsOn('com.myapp.eligible').length === 1, 'the eligible event');
      assert.equal(eventsOn('com.myapp.excluded').length, 0);
    });

    it('a publish the role may not make is a WAMP error in a 200 answer', async () => {
      const r = await post('publish-narrow', JSON.stringify({ topic: 'com.closed.x', args: [1] }));
      assert.equal(r.status, 200);
      const text = await r.text();
      assert.match(text, /^\{"error": "wamp\.error\.not_authorized", "args": \[.*\], "kwargs": \{\}\}$/);
      const ok = await publishJson('publish-narrow', { topic: 'com.open.x' });
      assert.equal(ok.status, 200);
      await eventually(() => eventsOn('com.open.x').length === 1, 'the allowed event');
      assert.equal(eventsOn('com.closed.x').length, 0);
    });

    it('refuses what Crossbar.io refuses, with its status and sentence, and nothing is published', async () => {
      const before = events.length;
      const cases: [string, RequestInit, number, string][] = [
        ['publish', { method: 'GET' }, 405, 'Method not accepted by the REST bridge. (GET not allowed, only POST, PUT)'],
        ['publish', { method: 'POST', body: '{"topic":"com.myapp.x"}', headers: { 'content-type': 'text/plain' } }, 400, "Non-accepted content type. (must be one of 'application/json', not 'text/plain')"],
        ['publish', { method: 'POST', body: '{"topic":"com.myapp.x"}', headers: { 'content-type': 'application/json; charset=latin-1' } }, 400, 'Non-accepted request encoding, must be UTF-8.'],
        ['publish', { method: 'POST', body: '{"topic":"com.myapp.x"}', headers: { 'content-type': 'application/json; charset=utf-8; charset=utf-8' } }, 400, 'Non-accepted request encoding, must be UTF-8.'],
        ['publish', { method: 'POST', body: '{"topic": "com.myapp.x",', headers: { 'content-type': 'application/json' } }, 400, 'Request body was invalid JSON.'],
        ['publish', { method: 'POST', body: '["com.myapp.x"]', headers: { 'content-type': 'application/json' } }, 400, 'Request body was valid JSON, but not well formed (must be a dict).'],
        ['publish', { method: 'POST', body: '{"args":[1]}', headers: { 'content-type': 'application/json' } }, 400, "Request body was valid JSON, but not well formed (missing key 'topic')."],
        ['publish', { method: 'POST', body: '{"topic": 5}', headers: { 'content-type': 'application/json' } }, 500, 'Unhandled exception in Crossbar.'],
        ['publish', { method: 'POST', body: '{"topic": "com.myapp.x", "options": {"exclude": "me"}}', headers: { 'content-type': 'application/json' } }, 500, 'Unhandled exception in Crossbar.'],
        ['publish?timestamp=yesterday', { method: 'POST', body: '{"topic":"com.myapp.x"}' }, 400, "REST bridge signature was invalid (invalid timestamp 'yesterday' (must be UTC/ISO-8601, e.g. '2011-10-14T16:59:51.123Z'))."],
        ['publish?timestamp=2011-10-14T16:59:51.123Z', { method: 'POST', body: '{"topic":"com.myapp.x"}' }, 400, 'Request expired, too old timestamp.'],
        ['publish?seq=one', { method: 'POST', body: '{"topic":"com.myapp.x"}' }, 400, "REST bridge signature was invalid (invalid sequence number 'one' (must be an integer))."],
        ['publish-tls', { method: 'POST', body: '{"topic":"com.myapp.x"}' }, 400, 'Malformed request to the REST bridge.'],
        ['publish-far', { method: 'POST', body: '{"topic":"com.myapp.x"}' }, 400, 'Request denied based on IP address.'],
      ];
      for (const [path, init, status, sentence] of cases) {
        const r = await fetch(`${t.http}/${path}`, { headers: { 'content-type': 'application/json' }, ...init });
        assert.equal(r.status, status, `${path} ${JSON.stringify(init)}`);
        assert.equal(r.headers.get('content-type'), 'application/json; charset=UTF-8');
        assert.deepEqual(await r.json(), denial(sentence), `${path} ${JSON.stringify(init)}`);
      }
      assert.equal(events.length, before, 'nothing refused was published');
    });

    it('refuses a body that is not UTF-8 (AR451)', async () => {
      const body = Buffer.concat([Buffer.from('{"topic":"com.myapp.x","args":["'), Buffer.from([0xc3, 0x28]), Buffer.from('"]}')]);
      const r = await fetch(`${t.http}/publish`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 400);
      assert.deepEqual(await r.json(), denial('Non-decodable request body, was not UTF-8.'));
    });

    it('answers CORS preflight (OPTIONS) as Crossbar.io', async () => {
      const r = await fetch(`${t.http}/publish`, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-headers': 'content-type' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('allow'), 'POST,PUT,OPTIONS');
      assert.equal(r.headers.get('access-control-allow-methods'), 'POST,PUT,OPTIONS');
      assert.equal(r.headers.get('access-control-allow-origin'), 'http://app.example');
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(r.headers.get('access-control-allow-headers'), 'content-type');
      assert.equal(await r.text(), '');
    });
  });

  describe('signed requests and limits', () => {
    it('accepts a request signed as Crossbar.io documents, and only once', async () => {
      const body = JSON.stringify({ topic: 'com.myapp.signed', args: ['Hello, world!', 23] });
      const query = signedQuery(body);
      const r = await post(`publish-signed?${query}`, body);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /^\{"id":\d+\}$/);
      await eventually(() => eventsOn('com.myapp.signed').length === 1, 'the signed event');
      const again = await post(`publish-signed?${query}`, body);
      assert.equal(again.status, 400);
      assert.deepEqual(await again.json(), denial('REST bridge signature was invalid (replayed request: this signature was already used).'));
      assert.equal(eventsOn('com.myapp.signed').length, 1);
    });

    it('signs with curl too', async () => {
      const body = '{"topic":"com.myapp.signed-curl","args":[1]}';
      const out = await curl(['-H', 'Content-Type: application/json', '--data-binary', body, `${t.http}/publish-signed?${signedQuery(body)}`]);
      assert.match(out, /^\{"id":\d+\}$/);
      await eventually(() => eventsOn('com.myapp.signed-curl').length === 1, 'the event');
    });

    it('refuses wrong keys and secrets, stale and malformed fields, tampered bodies and oversize bodies', async () => {
      const before = events.length;
      const body = JSON.stringify({ topic: 'com.myapp.bad', args: [1] });
      const stale = new Date(Date.now() - 60_000).toISOString();
      const noField = (f: string) => {
        const q = new URLSearchParams(signedQuery(body));
        q.delete(f);
        return q.toString();
      };
      const cases: [string, string, number, string][] = [
        [signedQuery(body, { key: 'spam' }), body, 401, 'REST bridge signature key not valid.'],
        [signedQuery(body, { secret: 'wrong' }), body, 401, 'REST bridge signature secret not valid.'],
        [signedQuery(body), body.replace('1', '2'), 401, 'REST bridge signature secret not valid.'],
        [signedQuery(body, { timestamp: stale }), body, 400, 'Request expired, too old timestamp.'],
        [noField('key'), body, 400, "REST bridge signature was invalid (missing mandatory field - 'key' field missing)."],
        [noField('timestamp'), body, 400, "REST bridge signature was invalid (missing mandatory field - signed request required, but mandatory 'timestamp' field missing)."],
        [noField('seq'), body, 400, "REST bridge signature was invalid (missing mandatory field - 'seq' field missing)."],
        [noField('nonce'), body, 400, "REST bridge signature was invalid (missing mandatory field - 'nonce' field missing)."],
        [noField('signature'), body, 400, "REST bridge signature was invalid (missing mandatory field - 'signature' field missing)."],
        ['', body, 400, "REST bridge signature was invalid (missing mandatory field - 'key' field missing)."],
        [signedQuery(body).replace(/nonce=\d+/, 'nonce=abc'), body, 400, "REST bridge signature was invalid (invalid nonce 'abc' (must be an integer))."],
      ];
      for (const [query, b, status, sentence] of cases) {
        const r = await post(`publish-signed?${query}`, b);
        assert.equal(r.status, status, query);
        assert.deepEqual(await r.json(), denial(sentence), query);
      }
      const big = JSON.stringify({ topic: 'com.myapp.bad', args: ['x'.repeat(9000)] });
      const r = await post(`publish-signed?${signedQuery(big)}`, big);
      assert.equal(r.status, 413);
      assert.deepEqual(await r.json(), denial(`Request too long. (${big.length} is longer than accepted 8192)`));
      assert.equal(events.length, before, 'nothing refused was published');
    });

    it('an oversize chunked body is refused once it passes the limit, and the connection is closed', async () => {
      const chunk = 'x'.repeat(4096);
      const head = 'POST /publish-signed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
      const chunks = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
      const res = await rawHttp(t.port, `${head}${chunks}0\r\n\r\n`);
      assert.equal(res.status, 413);
      assert.equal(res.headers.connection, 'close');
      assert.match(res.body.toString(), /"error":"Request too long\. \(\d+ is longer than accepted 8192\)"/);
    });

    it('the caller takes signed requests the same way', async () => {
      const body = JSON.stringify({ procedure: 'com.example.add2', args: [20, 3] });
      const r = await post(`call-signed?${signedQuery(body)}`, body);
      assert.deepEqual(await r.json(), { args: [23] });
      const bad = await post(`call-signed?${signedQuery(body, { secret: 'nope' })}`, body);
      assert.equal(bad.status, 401);
    });
  });

  describe('caller', () => {
    const call = async (body: unknown, path = 'call') => {
      const r = await post(path, JSON.stringify(body));
      return { status: r.status, text: await r.text() };
    };

    it('answers results as Autobahn|Python hands them to Crossbar.io', async () => {
      assert.deepEqual(await call({ procedure: 'com.example.add2', args: [1, 2] }), { status: 200, text: '{"args":[3]}' });
      assert.deepEqual(await call({ procedure: 'com.example.split_name', args: ['Homer Jay Simpson'] }), { status: 200, text: '{"args":["Homer","Jay","Simpson"]}' });
      assert.deepEqual(await call({ procedure: 'com.example.add_complex', kwargs: { a: 1, ai: 2, b: 3, bi: 4 } }), { status: 200, text: '{"kwargs":{"c":4,"ci":6}}' });
      assert.deepEqual(await call({ procedure: 'com.example.nothing' }), { status: 200, text: '{"args":[null]}' });
    });

    it('answers the examples\' curl', async () => {
      const out = await curl(['-H', 'Content-Type: application/json', '-d', '{"procedure": "com.example.add2", "args": [1, 2]}', `${t.http}/call`]);
      assert.equal(out, '{"args":[3]}');
    });

    it('a WAMP error is a 200 answer with error, args and kwargs (Python json.dumps spacing)', async () => {
      assert.deepEqual(await call({ procedure: 'com.example.checkname', args: ['MixedCase'] }), {
        status: 200, text: '{"error": "com.example.error.mixed_case", "args": ["mixedcase"], "kwargs": {"hint": "case"}}',
      });
      const none = await call({ procedure: 'com.example.nobody' });
      assert.equal(none.status, 200);
      assert.match(none.text, /^\{"error": "wamp\.error\.no_such_procedure", "args": \[.*\], "kwargs": \{\}\}$/);
      assert.deepEqual(await call({ args: [1] }), { status: 400, text: JSON.stringify(denial("Request body was valid JSON, but not well formed (missing key 'procedure').")) });
    });

    it('honours the call timeout: the request\'s options.timeout, capped by the service\'s call_timeout', async () => {
      const asked = await call({ procedure: 'com.example.slow', options: { timeout: 50 } });
      assert.equal(asked.status, 200);
      assert.match(asked.text, /^\{"error": "wamp\.error\.timeout", /);
      const capped = await call({ procedure: 'com.example.slow', options: { timeout: 600_000 } }, 'call-quick');
      assert.match(capped.text, /^\{"error": "wamp\.error\.timeout", "args": \["call timed out after 1000 ms"\]/);
    });
  });

  describe('webhook', () => {
    it('turns any POST into an event with the request\'s headers and body (Crossbar.io\'s shape), 202 "OK"', async () => {
      const out = await curl(['-i', '-H', 'X-Custom: one', '-H', 'User-Agent: hook-test', '--data-binary', 'HELLO THERE!', `${t.http}/webhook`]);
      assert.match(out, /^HTTP\/1\.1 202 /);
      assert.ok(out.endsWith('\r\n\r\nOK'));
      await eventually(() => eventsOn('com.myapp.topic1').some((e) => (e.args[0] as { body: string }).body === 'HELLO THERE!'), 'the hook event');
      const ev = eventsOn('com.myapp.topic1').find((e) => (e.args[0] as { body: string }).body === 'HELLO THERE!')!;
      const message = ev.args[0] as { headers: Record<string, string[]>; body: string };
      assert.deepEqual(Object.keys(message).sort(), ['body', 'headers']);
      assert.deepEqual(message.headers['X-Custom'], ['one']);
      assert.deepEqual(message.headers['User-Agent'], ['hook-test']);
      assert.deepEqual(message.headers['Content-Type'], ['application/x-www-form-urlencoded']);
      assert.deepEqual(message.headers['Content-Length'], ['12']);
    });

    it('keeps every value of a repeated header (fetch)', async () => {
      const h = new Headers([['x-tag', 'a'], ['x-tag', 'b']]);
      const r = await fetch(`${t.http}/webhook`, { method: 'POST', body: 'tags', headers: h });
      assert.equal(r.status, 202);
      await eventually(() => eventsOn('com.myapp.topic1').find((e) => (e.args[0] as { body: string }).body === 'tags'), 'the event');
      const message = eventsOn('com.myapp.topic1').find((e) => (e.args[0] as { body: string }).body === 'tags')!.args[0] as { headers: Record<string, string[]> };
      // fetch joins repeated headers into one line; Twisted lists the lines it got.
      assert.deepEqual(message.headers['X-Tag'], ['a, b']);
    });

    it('a publish the role may not make is 500 with error_response', async () => {
      const r = await fetch(`${t.http}/webhook-narrow`, { method: 'POST', body: 'x' });
      assert.equal(r.status, 500);
      assert.equal(await r.text(), 'nope');
    });

    it('with github_secret, only a body signed with it (X-Hub-Signature) is published', async () => {
      const body = '{"zen":"Design for failure."}';
      const sig = `sha1=${createHmac('sha1', 'gh-secret').update(body).digest('hex')}`;
      const ok = await fetch(`${t.http}/github`, { method: 'POST', body, headers: { 'x-hub-signature': sig, 'content-type': 'application/json' } });
      assert.equal(ok.status, 202);
      assert.equal(await ok.text(), 'thanks');
      const bad = await fetch(`${t.http}/github`, { method: 'POST', body, headers: { 'x-hub-signature': 'sha1=00' } });
      assert.equal(bad.status, 400);
      assert.deepEqual(await bad.json(), denial('Malformed request to the REST bridge.'));
      const none = await fetch(`${t.http}/github`, { method: 'POST', body });
      assert.equal(none.status, 400);
      const big = await fetch(`${t.http}/github`, { method: 'POST', body: 'y'.repeat(65), headers: { 'x-hub-signature': sig } });
      assert.equal(big.status, 413);
      await eventually(() => eventsOn('com.myapp.github').length === 1, 'the signed hook');
      assert.equal((eventsOn('com.myapp.github')[0]!.args[0] as { body: string }).body, body);
    });
  });
});

