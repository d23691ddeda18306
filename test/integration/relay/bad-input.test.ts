import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client, refusal, type RelayNode, startRelay } from './support.js';
import { eventually } from '../../helpers/eventually.js';

describe('relay: bad input gets a clear answer and disturbs nobody else', () => {
  let t: RelayNode;
  let a: Client;
  let b: Client;
  before(async () => {
    t = await startRelay({ maxMessageSize: 64 * 1024, maxConnectionsPerTopic: 5 });
    // A healthy pair on its own topic; every test checks it still works afterwards.
    a = await Client.open(`${t.base}/healthy`);
    b = await Client.open(`${t.base}/healthy`);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await t.stop();
  });

  let rounds = 0;
  async function healthyStillWorks(): Promise<void> {
    rounds++;
    await a.send(`ping ${rounds}`);
    await b.waitFor(rounds);
    assert.equal(b.texts().at(-1), `ping ${rounds}`);
  }

  it('refuses unknown and malformed paths with 404/400 and a reason', async () => {
    const cases: [string, number, RegExp][] = [
      ['', 404, /no topic/],
      ['/in', 404, /in\/<topic>/],
      ['/out/', 404, /out\/<topic>/],
      ['/bids/deny', 404, /access API/],
      ['/status', 404, /access API/],
      ['/stats/x', 404, /reserved/],
      ['/a%20b', 400, /invalid topic path/],
      ['/a.b', 400, /invalid topic path/],
      ['/a//b', 400, /invalid topic path/],
      [`/${'x'.repeat(300)}`, 414, /longer than/],
    ];
    for (const [path, status, reason] of cases) {
      const r = await refusal(`${t.base}${path}`);
      assert.equal(r.status, status, path);
      assert.match(r.body, reason, path);
    }
    // Outside the relay's mount: the web server's own 404.
    assert.equal((await refusal(`${t.base.replace('/relay', '')}/nothing-here`)).status, 404);
    await healthyStillWorks();
  });

  it('closes a client that sends an oversize message with 1009 and a reason; its topic and others go on', async () => {
    const big = await Client.open(`${t.base}/big-topic`);
    const peer = await Client.open(`${t.base}/big-topic`);
    big.ws.send(Buffer.alloc(64 * 1024 + 1), { binary: true });
    const closed = await big.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, /larger than the relay's limit of 65536 bytes/);
    assert.equal(peer.messages.length, 0, 'nothing of the oversize message was relayed');
    const other = await Client.open(`${t.base}/big-topic`);
    await other.send(Buffer.alloc(64 * 1024), true);
    assert.equal((await peer.waitFor(1))[0]!.data.length, 64 * 1024, 'a message at the limit passes');
    await Promise.all([peer.close(), other.close()]);
    await healthyStillWorks();
  });

  it('closes a client that sends invalid UTF-8 as text with 1007', async () => {
    const bad = await Client.open(`${t.base}/utf8`);
    const peer = await Client.open(`${t.base}/utf8`);
    bad.ws.send(Buffer.from([0x68, 0xc3, 0x28]), { binary: false });
    const closed = await bad.closed;
    assert.equal(closed.code, 1007);
    assert.match(closed.reason, /UTF-8/);
    assert.equal(peer.messages.length, 0);
    await peer.close();
    await healthyStillWorks();
  });

  it('refuses connections over the per-topic limit with 503; other topics still connect', async () => {
    const full = await Promise.all(Array.from({ length: 5 }, () => Client.open(`${t.base}/crowded`)));
    const flood = await Promise.all(Array.from({ length: 20 }, () => refusal(`${t.base}/crowded`)));
    for (const r of flood) {
      assert.equal(r.status, 503);
      assert.match(r.body, /topic "crowded" is full \(5 connections\)/);
    }
    // A flood on /in and /out of one topic counts towards the one shared channel.
    const outs = await Promise.all(Array.from({ length: 5 }, () => Client.open(`${t.base}/out/crowded`)));
    assert.equal((await refusal(`${t.base}/in/crowded`)).status, 503);
    const elsewhere = await Client.open(`${t.base}/not-crowded`);
    await full[0]!.close();
    await eventually(async () => {
      try {
        await (await Client.open(`${t.base}/crowded`)).close();
        return true;
      } catch {
        return false;
      }
    }, 'a slot to free up');
    await Promise.all([...full, ...outs, elsewhere].map((c) => c.close()));
    await healthyStillWorks();
  });

  it('answers plain HTTP on a topic with 426, other methods with 405, and a non-WebSocket upgrade with 400', async () => {
    const get = await fetch(`${t.http}/relay/expt`);
    assert.equal(get.status, 426);
    assert.match(((await get.json()) as { error: string }).error, /connect with a WebSocket client/);
    const put = await fetch(`${t.http}/relay/expt`, { method: 'PUT' });
    assert.equal(put.status, 405);
    const home = await fetch(`${t.http}/relay`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /\/in\/<topic>/);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.request(`${t.http}/relay/expt`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } });
      req.on('response', (res) => (res.resume(), resolve(res.statusCode)));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400, 'ws refuses an upgrade without Sec-WebSocket-Key');
    await healthyStillWorks();
  });

  it('refuses a POST for an access code on a relay without tokens', async () => {
    const res = await fetch(`${t.http}/relay/expt`, { method: 'POST', headers: { authorization: 'Bearer x' } });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /does not use tokens/);
    await healthyStillWorks();
  });

  it('survives clients that vanish mid-stream (no close handshake)', async () => {
    const src = await Client.open(`${t.base}/vanish`);
    const gone = await Promise.all(Array.from({ length: 3 }, () => Client.open(`${t.base}/vanish`)));
    const stay = await Client.open(`${t.base}/vanish`);
    for (let i = 0; i < 50; i++) {
      src.ws.send(Buffer.alloc(10_000, i), { binary: true });
      if (i === 10) for (const g of gone) g.ws.terminate();
    }
    await stay.waitFor(50);
    await eventually(() => t.relay.reports().filter((r) => r.topic === 'vanish').length === 2, 'the vanished clients to be removed');
    await Promise.all([src.close(), stay.close()]);
    await healthyStillWorks();
  });
});
