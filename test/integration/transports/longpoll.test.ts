/**
 * WAMP over HTTP long-poll as Crossbar.io's service speaks it (crossbar/router/longpoll.py):
 * crossbar-examples' `longpoll_curl` config unchanged, driven with curl as its README does, and
 * a node with tight long-poll limits attacked as a hostile HTTP client would — bad transport ids,
 * garbage and oversize bodies, a client that never polls — each answered as Crossbar.io answers,
 * with the WebSocket client beside it untouched.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pack, unpack } from 'msgpackr';
import { type AutobahnClient, connectAutobahn } from '../../helpers/clients.js';
import { type ConfigNode, NodeDir, curl, rawHttp, startConfigNode, webConfig } from '../../helpers/crossbar-node.js';
import { eventually } from '../../helpers/eventually.js';

const EXAMPLE = fileURLToPath(new URL('../../../../test/fixtures/crossbar-examples/longpoll_curl/.crossbar/config.json', import.meta.url));
const HELLO = [1, 'realm1', { roles: { subscriber: {}, publisher: {} } }];

interface Answer {
  status: number;
  type: string | null;
  body: Buffer;
  text: string;
  headers: Headers;
}

async function post(url: string, body?: string | Buffer): Promise<Answer> {
  const r = await fetch(url, { method: 'POST', body: typeof body === 'string' || body === undefined ? body ?? '' : new Uint8Array(body), headers: { 'content-type': 'application/json; charset=utf-8' } });
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, type: r.headers.get('content-type'), body: bytes, text: bytes.toString('utf8'), headers: r.headers };
}

interface JsonTransport {
  readonly id: string;
  send(m: unknown): Promise<Answer>;
  /** One poll's messages (a JSON body of one message; empty → []). */
  receive(): Promise<unknown[]>;
}

/** A long-poll client over fetch (wamp.2.json), as Autobahn|JS's is one over XMLHttpRequest. */
async function openJson(base: string): Promise<JsonTransport> {
  const opened = await post(`${base}/open`, JSON.stringify({ protocols: ['wamp.2.json'] }));
  assert.equal(opened.status, 200, opened.text);
  const { transport: id } = JSON.parse(opened.text) as { transport: string };
  return {
    id,
    send: (m) => post(`${base}/${id}/send`, JSON.stringify(m)),
    receive: async () => {
      const a = await post(`${base}/${id}/receive`);
      assert.equal(a.status, 200, a.text);
      return a.text === '' ? [] : [JSON.parse(a.text) as unknown];
    },
  };
}

/** Joins realm1 and subscribes to `topic`; the subscription id. */
async function joinAndSubscribe(t: JsonTransport, topic: string): Promise<number> {
  await t.send(HELLO);
  const [welcome] = (await t.receive()) as [[number]];
  assert.equal(welcome[0], 2);
  await t.send([32, 1, {}, topic]);
  const [subscribed] = (await t.receive()) as [[number, number, number]];
  assert.deepEqual(subscribed.slice(0, 2), [33, 1]);
  return subscribed[2];
}

describe('longpoll_curl: the example config unchanged, driven with curl', { timeout: 30_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let ws: AutobahnClient;
  before(async () => {
    t = await startConfigNode(dir, JSON.parse(readFileSync(EXAMPLE, 'utf8')));
    ws = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
  });
  after(async () => {
    await ws?.close();
    await t?.stop();
    dir.remove();
  });

  it('opens on the debug transport id, joins, subscribes, gets a WebSocket publication, publishes to WebSocket, closes', async () => {
    const lp = `${t.http}/lp`;
    const tid = 'kjmd3sBLOUnb3Fyr';
    const c = (path: string, data: string) => curl(['-H', 'Content-Type: application/json', '-d', data, `${lp}/${path}`]);
    assert.equal(await c('open', '{"protocols": ["wamp.2.json"]}'), `{"transport": "${tid}", "protocol": "wamp.2.json"}`);
    assert.equal(await c(`${tid}/send`, JSON.stringify(HELLO)), '');
    const welcome = JSON.parse(await c(`${tid}/receive`, '')) as [number, number, { authrole: string; authmethod: string }];
    assert.equal(welcome[0], 2);
    assert.equal(welcome[2].authrole, 'anonymous');
    assert.equal(welcome[2].authmethod, 'anonymous');
    assert.deepEqual(JSON.parse(await curl([`${lp}/${tid}`])), { transport: tid, session: welcome[1] });

    await c(`${tid}/send`, '[32, 1, {}, "com.myapp.topic1"]');
    const subscribed = JSON.parse(await c(`${tid}/receive`, '')) as [number, number, number];
    assert.deepEqual(subscribed.slice(0, 2), [33, 1]);
    await ws.session.publish('com.myapp.topic1', ['Hello, world!', 23, 666], {}, { acknowledge: true });
    const event = JSON.parse(await c(`${tid}/receive`, '')) as unknown[];
    assert.deepEqual([event[0], event[1], event[4]], [36, subscribed[2], ['Hello, world!', 23, 666]]);

    const got: unknown[] = [];
    await ws.session.subscribe('com.myapp.topic2', (args) => void got.push(args));
    await c(`${tid}/send`, '[16, 2, {}, "com.myapp.topic2", ["from curl", 1]]');
    await eventually(() => got.length === 1, 'the WebSocket subscriber to get the long-poll publication');
    assert.deepEqual(got, [['from curl', 1]]);

    assert.equal(await c(`${tid}/close`, ''), '');
    await eventually(async () => (await ws.session.call('wamp.session.count')) === 1, 'the long-poll session to end');
    const after = await post(`${lp}/${tid}/send`, '[1]');
    assert.equal(after.status, 404);
  });
});

describe('long-poll against hostile HTTP and a client that stops polling', { timeout: 60_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let ws: AutobahnClient;
  let lp: string;
  before(async () => {
    t = await startConfigNode(dir, webConfig({
      ws: { type: 'websocket' },
      lp: { type: 'longpoll', options: { request_timeout: 1, session_timeout: 0, queue_limit_messages: 5, queue_limit_bytes: 4096 } },
      idle: { type: 'longpoll', options: { session_timeout: 1 } },
    }));
    ws = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
    lp = `${t.http}/lp`;
  });
  after(async () => {
    await ws?.close();
    await t?.stop();
    dir.remove();
  });

  it('answers an unknown transport id and an unknown operation with Twisted\'s 404 page, other methods with 405', async () => {
    const unknown = await post(`${lp}/NOSUCHTRANSPORT/send`, '[1]');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.type, 'text/html; charset=utf-8');
    assert.match(unknown.text, /<title>404 - No Such Resource<\/title>/);
    assert.match(unknown.text, /no WAMP transport &#39;NOSUCHTRANSPORT&#39;/);
    const hostileId = await post(`${lp}/%3Cscript%3E/receive`);
    assert.equal(hostileId.status, 404);
    assert.doesNotMatch(hostileId.text, /<script>/);

    const tr = await openJson(lp);
    const badOp = await post(`${lp}/${tr.id}/explode`);
    assert.equal(badOp.status, 404);
    assert.match(badOp.text, /invalid WAMP transport operation &#39;explode&#39;/);
    const get = await fetch(`${lp}/open`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const notice = await fetch(`${lp}/`);
    assert.equal(notice.status, 200);
    assert.match(await notice.text(), /WAMP-over-Longpoll/);
  });

  it('refuses open requests as Crossbar.io does (400, its sentences)', async () => {
    const cases: [string, string][] = [
      ['{"protocols": ["wamp.2', 'could not parse WAMP session open request body'],
      ['[1, 2]', 'invalid type for WAMP session open request'],
      ['{}', "missing attribute 'protocols' in WAMP session open request"],
      ['{"protocols": ["wamp.2.ubjson"]}', 'no common protocol to speak (I speak: wamp.2.json.batched, wamp.2.json, wamp.2.msgpack.batched, wamp.2.msgpack, wamp.2.cbor.batched, wamp.2.cbor)'],
      ['{"protocols": "wamp.2.json"}', 'no common protocol to speak (I speak: wamp.2.json.batched, wamp.2.json, wamp.2.msgpack.batched, wamp.2.msgpack, wamp.2.cbor.batched, wamp.2.cbor)'],
    ];
    for (const [body, answer] of cases) {
      const a = await post(`${lp}/open`, body);
      assert.equal(a.status, 400, body);
      assert.equal(a.type, 'text/plain; charset=UTF-8');
      assert.equal(a.text, answer);
      assert.equal(a.headers.get('access-control-allow-origin'), '*');
      assert.equal(a.headers.get('cache-control'), 'no-store, no-cache, must-revalidate, max-age=0');
    }
  });

  it('GET of a transport names its session once joined (null before)', async () => {
    const tr = await openJson(lp);
    const before = await fetch(`${lp}/${tr.id}`);
    assert.deepEqual(await before.json(), { transport: tr.id, session: null });
    await tr.send(HELLO);
    const [welcome] = (await tr.receive()) as [[number, number]];
    assert.equal(welcome[0], 2);
    const after = await fetch(`${lp}/${tr.id}`);
    assert.deepEqual(await after.json(), { transport: tr.id, session: welcome[1] });
    await post(`${lp}/${tr.id}/close`);
  });

  it('refuses a garbage send body with 400 and the transport goes on working', async () => {
    const tr = await openJson(lp);
    await tr.send(HELLO);
    await tr.receive();
    const garbage = await tr.send('not json' as unknown as never);
    assert.equal(garbage.status, 204, 'a JSON string is a message (the router answers it)');
    const bad = await post(`${lp}/${tr.id}/send`, '{"not": json');
    assert.equal(bad.status, 400);
    assert.equal(bad.text, 'could not unserialize WAMP message.');
    assert.equal(bad.type, 'text/plain; charset=UTF-8');
  });

  it('a send that is valid JSON but not WAMP ends that session only (ABORT on its next poll)', async () => {
    const tr = await openJson(lp);
    const other = await openJson(lp);
    const sub = await joinAndSubscribe(other, 'com.lp.bystander');
    await tr.send(HELLO);
    await tr.receive();
    await tr.send([9999, 'nonsense']);
    const [abort] = (await tr.receive()) as [[number, object, string]];
    assert.equal(abort[0], 3, JSON.stringify(abort));
    assert.equal(abort[2], 'wamp.error.protocol_violation');
    await ws.session.publish('com.lp.bystander', ['still here'], {}, { acknowledge: true });
    const [event] = (await other.receive()) as [[number, number]];
    assert.deepEqual(event.slice(0, 2), [36, sub]);
  });

  it('refuses an oversize body with 413 before reading it, and streams cut off at the limit', async () => {
    const tr = await openJson(lp);
    await tr.send(HELLO);
    await tr.receive();
    const declared = await rawHttp(t.port, `POST /lp/${tr.id}/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n[`);
    assert.equal(declared.status, 413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${lp}/${tr.id}/send`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const mib = Buffer.alloc(1024 * 1024, 0x20);
      const pump = (n: number): void => {
        if (n === 0) return void req.end();
        if (req.destroyed) return;
        req.write(mib, () => pump(n - 1));
      };
      pump(17);
    }).catch(() => 413);
    assert.equal(chunked, 413);
    // The transport itself is untouched.
    await tr.send([32, 1, {}, 'com.lp.after_oversize']);
    const [subscribed] = (await tr.receive()) as [[number]];
    assert.equal(subscribed[0], 33);
  });

  it('bounds the queue of a client that stops polling; other subscribers get every event', async () => {
    const idle = await openJson(lp);
    await joinAndSubscribe(idle, 'com.lp.flood');
    const wsGot: unknown[] = [];
    await ws.session.subscribe('com.lp.flood', (args) => void wsGot.push(args?.[0]));
    for (let i = 0; i < 20; i++) await ws.session.publish('com.lp.flood', [i], {}, { acknowledge: true, exclude_me: false });
    await eventually(() => wsGot.length === 20, 'the WebSocket subscriber to get all 20');
    const delivered: unknown[] = [];
    for (;;) {
      const batch = await idle.receive();
      if (batch.length === 0) break; // answered empty after request_timeout: the queue is drained
      delivered.push(...batch);
    }
    assert.equal(delivered.length, 5, 'queue_limit_messages: 5');
    assert.deepEqual(delivered.map((e) => (e as unknown[])[4]), [[0], [1], [2], [3], [4]]);
  });

  it('answers a poll with nothing to deliver empty after request_timeout', async () => {
    const tr = await openJson(lp);
    await tr.send(HELLO);
    await tr.receive();
    const a = await post(`${lp}/${tr.id}/receive`);
    assert.equal(a.status, 200);
    assert.equal(a.text, '');
  });

  it('closes a transport that neither sends nor polls for session_timeout', async () => {
    const base = `${t.http}/idle`;
    const tr = await openJson(base);
    await tr.send(HELLO);
    await tr.receive();
    await eventually(async () => (await fetch(`${base}/${tr.id}`)).status === 404, 'the idle transport to be closed', 10_000);
  });

  it('speaks the batched MessagePack protocol (4-octet length prefixes)', async () => {
    const opened = await post(`${lp}/open`, JSON.stringify({ protocols: ['wamp.2.msgpack.batched', 'wamp.2.json'] }));
    const { transport, protocol } = JSON.parse(opened.text) as { transport: string; protocol: string };
    assert.equal(protocol, 'wamp.2.msgpack.batched');
    const frame = (m: unknown) => {
      const b = pack(m);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(b.length);
      return Buffer.concat([head, b]);
    };
    const messages: unknown[][] = [];
    const receiveUntil = async (n: number) => {
      while (messages.length < n) {
        const a = await post(`${lp}/${transport}/receive`);
        assert.equal(a.type, 'application/x-msgpack');
        for (let at = 0; at < a.body.length;) {
          const len = a.body.readUInt32BE(at);
          messages.push(unpack(a.body.subarray(at + 4, at + 4 + len)) as unknown[]);
          at += 4 + len;
        }
      }
    };
    await post(`${lp}/${transport}/send`, frame(HELLO));
    await receiveUntil(1);
    // Two messages in one body.
    await post(`${lp}/${transport}/send`, Buffer.concat([frame([32, 1, {}, 'com.lp.mp']), frame([16, 2, { acknowledge: true }, 'com.lp.other', [1]])]));
    await receiveUntil(3);
    assert.deepEqual(messages.map((m) => m[0]).sort(), [17, 2, 33]);
  });
});
