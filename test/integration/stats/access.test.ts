/**
 * Access control of the stats, metrics and health services (issue 11, item 13): a node loaded
 * from a Crossbar.io-format config whose `stats`/`metrics` paths carry `access` (a bearer token,
 * allowed client networks) and `topic_names: false`. Clients are fetch, node:http bound to another
 * loopback source address, and curl.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { freePort } from '../../helpers/ports.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';

const run = promisify(execFile);
const TOKEN = 'stats-token-0123456789abcdef';

/** GET `path` from the source address `from` (any 127.x address works on Linux loopback). */
function getFrom(from: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress: from, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function curlStatus(url: string, ...args: string[]): Promise<number> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...args, url]);
  return Number(stdout);
}

describe('access control of the stats, metrics and health services', { timeout: 30_000 }, () => {
  let node: XbarNode;
  let base: string;
  let client: AutobahnClient;
  let subscriber: AutobahnClient;

  before(async () => {
    const port = await freePort();
    const config = parseConfig({
      version: 2,
      stats: { interval: 200 },
      workers: [{
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { publish: true, subscribe: true } }] }] }],
        transports: [{
          type: 'web',
          endpoint: { type: 'tcp', interface: '127.0.0.1', port },
          paths: {
            ws: { type: 'websocket' },
            stats: { type: 'stats', access: { token: TOKEN }, topic_names: false },
            opsstats: { type: 'stats', access: { networks: ['127.0.0.2', '10.0.0.0/8'] } },
            metrics: { type: 'metrics', access: { token: TOKEN, networks: ['127.0.0.0/8'] }, topic_names: false },
            fullmetrics: { type: 'metrics', access: { networks: ['127.0.0.3/32'] } },
            health: { type: 'health', access: { networks: ['127.0.0.0/8', '::1'] } },
          },
        }],
      }],
    }, 'access.json');
    node = new XbarNode(config, { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
    await node.start();
    base = `http://127.0.0.1:${node.port('web')}`;
    client = await connectAutobahn(`ws://127.0.0.1:${node.port('web')}/ws`);
    subscriber = await connectAutobahn(`ws://127.0.0.1:${node.port('web')}/ws`);
    // Traffic on a topic whose name must not leak where topic_names is false.
    await subscriber.session.subscribe('com.secret.patient-42', () => undefined);
    for (let i = 0; i < 20; i++) await client.session.publish('com.secret.patient-42', [i], {}, { acknowledge: true });
  });
  after(async () => {
    await client?.close();
    await subscriber?.close();
    await node?.stop();
  });

  it('refuses /stats, /stats.json and /metrics without the token (401, WWW-Authenticate: Bearer) and serves them with it', async () => {
    for (const path of ['/stats', '/stats.json', '/metrics']) {
      const none = await fetch(`${base}${path}`);
      assert.equal(none.status, 401, path);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.match(await none.text(), /needs a token/);
      assert.equal((await fetch(`${base}${path}`, { headers: { authorization: 'Bearer wrong-token-0123456789abc' } })).status, 401);
      assert.equal((await fetch(`${base}${path}?token=${TOKEN.slice(0, -1)}`)).status, 401, 'a prefix of the token is not the token');
      assert.equal((await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, path);
      assert.equal((await fetch(`${base}${path}?token=${TOKEN}`)).status, 200, `${path}?token=`);
    }
    assert.equal(await curlStatus(`${base}/stats.json`), 401);
    assert.equal(await curlStatus(`${base}/stats.json`, '-H', `Authorization: Bearer ${TOKEN}`), 200);
    const head = await fetch(`${base}/stats.json`, { method: 'HEAD' });
    assert.equal(head.status, 401);
  });

  it('lets in only clients from the allowed networks (403 for the others), by the real client address', async () => {
    const refused = await getFrom('127.0.0.1', `${base}/opsstats.json`);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /clients from 127\.0\.0\.1 may not use this service/);
    assert.equal((await getFrom('127.0.0.2', `${base}/opsstats.json`)).status, 200);
    assert.equal((await getFrom('127.0.0.2', `${base}/opsstats`)).status, 200);
    assert.equal(await curlStatus(`${base}/opsstats.json`, '--interface', '127.0.0.2'), 200);
    assert.equal(await curlStatus(`${base}/opsstats.json`, '--interface', '127.0.0.4'), 403);
    assert.equal((await getFrom('127.0.0.3', `${base}/fullmetrics`)).status, 200);
    assert.equal((await getFrom('127.0.0.1', `${base}/fullmetrics`)).status, 403);
    // Both conditions: a network that is allowed still needs the token.
    assert.equal((await getFrom('127.0.0.5', `${base}/metrics`)).status, 401);
    assert.equal((await getFrom('127.0.0.5', `${base}/metrics`, { authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await getFrom('127.0.0.9', `${base}/health/ready`)).status, 200);
  });

  it('leaves topic names out where topic_names is false, and shows them elsewhere', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    // Keep the topic busy (a quiet topic leaves the busiest list after one interval) until a sample shows it.
    const busy = setInterval(() => void client.session.publish('com.secret.patient-42', ['x']), 20);
    try {
      const deadline = Date.now() + 10_000;
      let full = '';
      while (!full.includes('com.secret.patient-42')) {
        assert.ok(Date.now() < deadline, 'the topic never showed in the unfiltered stats');
        full = (await getFrom('127.0.0.2', `${base}/opsstats.json`)).body;
        if (!full.includes('com.secret.patient-42')) await new Promise((r) => setTimeout(r, 50));
      }
      assert.match((await getFrom('127.0.0.3', `${base}/fullmetrics`)).body, /xbar_topic_events_per_second\{realm="realm1",topic="com\.secret\.patient-42"\}/);
      const json = await (await fetch(`${base}/stats.json`, { headers: auth })).text();
      assert.doesNotMatch(json, /secret/);
      assert.deepEqual((JSON.parse(json) as { realms: { top_topics: unknown[] }[] }).realms[0]!.top_topics, []);
      assert.ok((JSON.parse(json) as { realms: { totals: { publications: number } }[] }).realms[0]!.totals.publications >= 20, 'the counts are still there');
      const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
      assert.doesNotMatch(metrics, /secret/);
      parsePrometheusText(metrics);
    } finally {
      clearInterval(busy);
    }
  });

  it('counts every refusal in /metrics by path and reason', async () => {
    const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const families = parsePrometheusText(text);
    const count = (labels: Record<string, string>) => valueOf(families, 'xbar_http_access_refused_total', 'xbar_http_access_refused_total', labels) ?? 0;
    assert.equal(families.get('xbar_http_access_refused_total')?.type, 'counter');
    assert.ok(count({ path: '/stats', reason: 'token' }) >= 8, text);
    assert.ok(count({ path: '/opsstats', reason: 'network' }) >= 2);
    assert.ok(count({ path: '/fullmetrics', reason: 'network' }) >= 1);
    assert.ok(count({ path: '/metrics', reason: 'token' }) >= 3);
  });
});
