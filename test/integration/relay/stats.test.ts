import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import type { ConnectionReport } from '../../../src/relay/relay-connection.js';
import { Client, refusal, type RelayNode, startRelay } from './support.js';

/** A stats channel client that parses each report. */
async function statsChannel(url: string, options = {}) {
  const c = await Client.open(url, options);
  return {
    c,
    async report(n: number): Promise<ConnectionReport[]> {
      await c.waitFor(n, 10_000);
      return JSON.parse(c.messages[n - 1]!.data.toString()) as ConnectionReport[];
    },
  };
}

describe('relay stats', () => {
  let t: RelayNode;
  before(async () => {
    t = await startRelay({ statsInterval: 300 });
  });
  after(() => t.stop());

  it('reports every connection in practable\'s shape on the stats channel: on connect and periodically', async () => {
    const src = await Client.open(`${t.base}/in/cam`, { headers: { 'user-agent': 'lab-camera/1.0' } });
    const viewer = await Client.open(`${t.base}/out/cam`, { headers: { 'user-agent': 'browser/2.0' } });
    const before = Date.now();
    for (let i = 0; i < 10; i++) await src.send(Buffer.alloc(1000), true);
    await viewer.waitFor(10);
    await viewer.send('ignored');

    const s = await statsChannel(`${t.base}/stats`);
    const first = await s.report(1);
    assert.equal(first.length, 2, 'the stats channel itself is not a relay connection');
    const cam = first.find((r) => r.topic === 'in/cam')!;
    const out = first.find((r) => r.topic === 'out/cam')!;
    assert.deepEqual(Object.keys(cam).sort(), ['canRead', 'canWrite', 'connected', 'id', 'queued', 'remoteAddr', 'stats', 'topic', 'userAgent']);
    assert.deepEqual(Object.keys(cam.stats.tx).sort(), ['bytes', 'count', 'dropped', 'fps', 'last', 'size']);
    assert.equal(cam.userAgent, 'lab-camera/1.0');
    assert.match(cam.remoteAddr, /^127\.0\.0\.1:\d+$/);
    assert.ok(Math.abs(Date.parse(cam.connected) - before) < 5000);
    assert.deepEqual([cam.canRead, cam.canWrite, out.canRead, out.canWrite], [true, true, true, false]);
    assert.deepEqual([cam.stats.tx.count, cam.stats.tx.size, cam.stats.tx.bytes, cam.stats.rx.count, cam.stats.rx.last], [10, 1000, 10_000, 0, null]);
    assert.deepEqual([out.stats.rx.count, out.stats.rx.size, out.stats.tx.count, out.stats.tx.dropped], [10, 1000, 1, 1]);
    assert.ok(cam.stats.tx.fps > 0 && typeof cam.stats.tx.last === 'number' && cam.stats.tx.last >= 0);

    // Periodic push (every 300 ms here), reflecting new traffic.
    for (let i = 0; i < 5; i++) await src.send('text message');
    await viewer.waitFor(15);
    let later: ConnectionReport[];
    let n = 2;
    do later = await s.report(n++);
    while (later.find((r) => r.topic === 'out/cam')!.stats.rx.count !== 15);
    await Promise.all([src.close(), viewer.close(), s.c.close()]);
  });

  it('answers {"cmd":"update"} with a report, at most one a second (on a fake clock)', async () => {
    const quiet = await startRelay({ statsInterval: 3_600_000 }); // no periodic report meanwhile
    try {
      const s = await statsChannel(`${quiet.base}/stats`);
      assert.deepEqual(await s.report(1), []);
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      // Within a second of the last report: no answer. A connection opened after it shows which
      // request the next report answers.
      await s.c.send(JSON.stringify({ cmd: 'update' }));
      const cam = await Client.open(`${quiet.base}/in/cam`);
      mock.timers.tick(1000);
      await s.c.send(JSON.stringify({ cmd: 'update' }));
      assert.deepEqual((await s.report(2)).map((r) => r.topic), ['in/cam'], 'the first request got no report');
      await Promise.all([cam.close(), s.c.close()]);
    } finally {
      mock.timers.reset();
      await quiet.stop();
    }
  });

  it('serves the reports as JSON at GET stats?format=json and the page at GET stats', async () => {
    const a = await Client.open(`${t.base}/json-topic`);
    const json = (await (await fetch(`${t.http}/relay/stats?format=json`)).json()) as ConnectionReport[];
    assert.deepEqual(json.map((r) => r.topic), ['json-topic']);
    const page = await fetch(`${t.http}/relay/stats`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<title>xbar relay stats<\/title>/);
    assert.doesNotMatch(html, /(src|href)=["']https?:/, 'no external assets');
    await a.close();
  });
});

describe('relay stats access', () => {
  it('stats: "admin" needs the admin token (header or ?token=); "off" serves nothing', async () => {
    const admin = 'stats-admin-token-0123456789';
    const t = await startRelay({ stats: 'admin', adminToken: admin });
    try {
      assert.equal((await fetch(`${t.http}/relay/stats`)).status, 401);
      assert.equal((await refusal(`${t.base}/stats`)).status, 401);
      assert.equal((await fetch(`${t.http}/relay/stats?token=${admin}`)).status, 200);
      assert.equal((await fetch(`${t.http}/relay/stats?format=json`, { headers: { authorization: `Bearer ${admin}` } })).status, 200);
      const s = await statsChannel(`${t.base}/stats?token=${admin}`);
      assert.deepEqual(await s.report(1), []);
      await s.c.close();
    } finally {
      await t.stop();
    }
    const off = await startRelay({ stats: 'off' });
    try {
      assert.equal((await fetch(`${off.http}/relay/stats`)).status, 404);
      assert.equal((await refusal(`${off.base}/stats`)).status, 404);
    } finally {
      await off.stop();
    }
  });

  it('a relay that requires tokens shows its stats (page, JSON, channel) to the admin only by default', async () => {
    const admin = 'stats-admin-token-0123456789';
    const t = await startRelay({ tokens: { secret: 'relay-secret-for-the-stats-test', required: true }, adminToken: admin });
    try {
      assert.equal(t.relay.config.stats, 'admin');
      const page = await fetch(`${t.http}/relay/stats`);
      assert.equal(page.status, 401);
      assert.equal(page.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await fetch(`${t.http}/relay/stats?format=json`)).status, 401);
      assert.equal((await fetch(`${t.http}/relay/stats?format=json`, { headers: { authorization: 'Bearer not-the-admin-token' } })).status, 401);
      assert.equal((await refusal(`${t.base}/stats`)).status, 401);
      assert.equal((await fetch(`${t.http}/relay/stats?token=${admin}`)).status, 200);
      const s = await statsChannel(`${t.base}/stats`, { headers: { authorization: `Bearer ${admin}` } });
      assert.deepEqual(await s.report(1), []);
      await s.c.close();
    } finally {
      await t.stop();
    }
  });
});
