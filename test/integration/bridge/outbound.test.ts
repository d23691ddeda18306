/**
 * The outbound HTTP bridge, configured as crossbar-examples' rest/subscriber and rest/callee
 * configure it (container components `crossbar.bridge.rest.MessageForwarder` and
 * `crossbar.bridge.rest.RESTCallee`) and run natively, against a real local HTTP server that
 * answers, fails, stalls and recovers: events POSTed in order, retried with back-off, bounded
 * queues, and what was dropped counted in /metrics; REST calls answered with the endpoint's
 * status, content and headers, from a WAMP caller and from the HTTP caller with curl.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type AutobahnClient, connectAutobahn } from '../../helpers/clients.js';
import { type ConfigNode, EXAMPLE_REALM, NodeDir, curl, startConfigNode } from '../../helpers/crossbar-node.js';
import { eventually } from '../../helpers/eventually.js';

interface Received {
  method: string;
  path: string;
  type: string | undefined;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** A real HTTP endpoint whose behaviour the test switches: answer, fail with a status, or stall. */
class Endpoint {
  readonly received: Received[] = [];
  mode: 'ok' | 'fail' | 'stall' = 'ok';
  failStatus = 500;
  okStatus = 200;
  private stalled: (() => void)[] = [];
  readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = () => {
        if (this.mode === 'fail') {
          res.writeHead(this.failStatus).end('failing');
          return;
        }
        this.received.push({ method: req.method!, path: req.url!, type: req.headers['content-type'], body: Buffer.concat(chunks).toString(), headers: req.headers });
        res.writeHead(this.okStatus, { 'content-type': 'text/plain', 'x-echo': req.headers['x-test'] ?? 'none' }).end(`seen ${req.method} ${req.url}`);
      };
      if (this.mode === 'stall') this.stalled.push(answer);
      else answer();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get stalledCount(): number {
    return this.stalled.length;
  }

  release(): void {
    this.mode = 'ok';
    for (const a of this.stalled.splice(0)) a();
  }

  reset(): void {
    this.release();
    this.received.length = 0;
    this.okStatus = 200;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const transport = { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: 8080 }, url: 'ws://127.0.0.1:8080/ws' };

function config(base: string, deadUrl: string): Record<string, unknown> {
  const fast = { retry_backoff: 10, max_retry_backoff: 50, request_timeout: 2000 };
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [EXAMPLE_REALM],
        transports: [{
          type: 'web', endpoint: { type: 'tcp', port: 8080 },
          paths: { ws: { type: 'websocket' }, call: { type: 'caller', realm: 'realm1', role: 'anonymous' }, metrics: { type: 'metrics' } },
        }],
        components: [{
          type: 'class', id: 'hooks', classname: 'crossbar.bridge.rest.MessageForwarder', realm: 'realm1', role: 'anonymous',
          extra: { subscriptions: [{ url: `${base}/hook`, topic: 'com.myapp.', match: 'prefix' }], method: 'PUT', ...fast, max_queue_bytes: 2048 },
        }],
      },
      {
        type: 'container',
        options: { pythonpath: ['..'] },
        components: [
          {
            type: 'class', id: 'forwarder', classname: 'crossbar.bridge.rest.MessageForwarder', realm: 'realm1', transport,
            extra: { subscriptions: [{ url: `${base}/post`, topic: 'com.myapp.topic1' }, { url: deadUrl, topic: 'com.myapp.dead' }], method: 'POST', expectedcode: 200, debug: true, ...fast },
          },
          { type: 'class', id: 'rest', classname: 'crossbar.bridge.rest.RESTCallee', realm: 'realm1', transport, extra: { procedure: 'com.myapp.rest', baseurl: `${base}/`, ...fast } },
        ],
      },
    ],
  };
}

describe('outbound HTTP bridge (MessageForwarder, RESTCallee)', () => {
  const dir = new NodeDir();
  const endpoint = new Endpoint();
  let t: ConfigNode;
  let wamp: AutobahnClient;
  const dropped = (component: string, reason: string) => t.node.bridgeCounts.outboundDropped.get({ component, reason });
  const publish = (topic: string, args: unknown[], kwargs: Record<string, unknown> = {}) => wamp.session.publish(topic, args, kwargs, { acknowledge: true });
  const at = (path: string) => endpoint.received.filter((r) => r.path === path);

  before(async () => {
    const base = await endpoint.start();
    // A port nothing listens on: every delivery there fails to connect.
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/gone`;
    await new Promise((r) => dead.close(r));
    t = await startConfigNode(dir, config(base, deadUrl));
    wamp = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
  });
  after(async () => {
    await wamp?.close();
    await t?.stop();
    await endpoint.stop();
    dir.remove();
  });
  beforeEach(() => endpoint.reset());

  it('the examples\' configs pass the check: their bridge components are not Python components', () => {
    assert.equal(t.node.config.workers, undefined, 'no Python worker is started for them');
    assert.deepEqual(t.node.config.outbound?.map((c) => c.id), ['hooks', 'forwarder', 'rest']);
  });

  it('MessageForwarder POSTs each event as {"args", "kwargs"} JSON, with the configured method', async () => {
    await publish('com.myapp.topic1', ['Hello, world', 23], { n: 1 });
    await eventually(() => at('/post').length === 1 && at('/hook').length === 1, 'both deliveries');
    const [post] = at('/post');
    assert.deepEqual({ method: post!.method, type: post!.type, body: post!.body }, { method: 'POST', type: 'application/json', body: '{"args":["Hello, world",23],"kwargs":{"n":1}}' });
    assert.equal(at('/hook')[0]!.method, 'PUT');
  });

  it('retries a failing endpoint with back-off and delivers in order once it recovers', async () => {
    endpoint.mode = 'fail';
    const retriesBefore = t.node.bridgeCounts.outboundRetries.get({ component: 'forwarder' });
    for (let i = 0; i < 3; i++) await publish('com.myapp.topic1', [i]);
    await eventually(() => t.node.bridgeCounts.outboundRetries.get({ component: 'forwarder' }) >= retriesBefore + 2, 'retries');
    endpoint.mode = 'ok';
    await eventually(() => at('/post').length === 3, 'the three events after recovery');
    assert.deepEqual(at('/post').map((r) => JSON.parse(r.body).args[0]), [0, 1, 2]);
  });

  it('a status other than expectedcode is a failed delivery', async () => {
    endpoint.okStatus = 201;
    const before = dropped('forwarder', 'failed');
    await publish('com.myapp.topic1', ['created?']);
    await eventually(() => dropped('forwarder', 'failed') === before + 1, 'the event dropped after its attempts');
    assert.equal(at('/post').length, 5, 'max_attempts (5) requests were made');
  });

  it('an endpoint that never accepts a connection: the event is dropped after its attempts, counted', async () => {
    const before = dropped('forwarder', 'failed');
    await publish('com.myapp.dead', ['lost']);
    await eventually(() => dropped('forwarder', 'failed') === before + 1, 'the dropped count');
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    assert.match(metrics, new RegExp(`xbar_http_bridge_dropped_total\\{component="forwarder",reason="failed"\\} ${before + 1}`));
  });

  it('a stalled endpoint: the queue holds max_queue_bytes, what does not fit is dropped and counted, the rest follows', async () => {
    endpoint.mode = 'stall';
    const fullBefore = dropped('hooks', 'queue_full');
    const queued = () => at('/hook').filter((r) => (JSON.parse(r.body) as { kwargs: { q?: boolean } }).kwargs.q === true);
    await publish('com.myapp.q', [0], { q: true });
    await eventually(() => endpoint.stalledCount >= 1, 'the first request in flight');
    const payload = 'x'.repeat(500);
    for (let i = 1; i <= 10; i++) await publish('com.myapp.q', [i, payload], { q: true });
    const forwarder = t.node.outbound.components.get('hooks') as unknown as { queuedBytes(url: string): number };
    await eventually(() => dropped('hooks', 'queue_full') > fullBefore, 'queue_full drops');
    assert.ok(forwarder.queuedBytes(`${endpoint.server.address() && `http://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}`}/hook`) <= 2048);
    const lost = dropped('hooks', 'queue_full') - fullBefore;
    endpoint.release();
    await eventually(() => queued().length === 11 - lost, 'the queued events after release');
    const order = queued().map((r) => JSON.parse(r.body).args[0] as number);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'in order');
    assert.equal(order[0], 0);
  });

  describe('RESTCallee', () => {
    it('answers a call with the endpoint\'s status, content and headers (url resolved against baseurl, params, headers)', async () => {
      const r = await wamp.session.call('com.myapp.rest', [], { method: 'GET', url: 'get', params: { q: 'a b' }, headers: { 'X-Test': ['yes'] } }) as { code: number; content: string; headers: Record<string, string[]> };
      assert.equal(r.code, 200);
      assert.equal(r.content, 'seen GET /get?q=a+b');
      assert.deepEqual(r.headers['X-Echo'], ['yes']);
      assert.deepEqual(r.headers['Content-Type'], ['text/plain']);
    });

    it('through the HTTP caller, as the callee example\'s curl does', async () => {
      const out = await curl(['-H', 'Content-Type: application/json', '-d', '{"procedure": "com.myapp.rest", "kwargs": {"url": "get", "method": "GET"}}', `${t.http}/call`]);
      const body = JSON.parse(out) as { args: [{ code: number; content: string }] };
      assert.equal(body.args[0].code, 200);
      assert.equal(body.args[0].content, 'seen GET /get');
    });

    it('retries an idempotent request through a failure, and passes a POST\'s failure status on at once', async () => {
      endpoint.mode = 'fail';
      endpoint.failStatus = 503;
      const pending = wamp.session.call('com.myapp.rest', ['GET', 'retry']) as Promise<{ code: number }>;
      await eventually(() => t.node.bridgeCounts.outboundRetries.get({ component: 'rest' }) > 0, 'a retry');
      endpoint.mode = 'ok';
      assert.equal((await pending).code, 200);
      endpoint.mode = 'fail';
      const post = await wamp.session.call('com.myapp.rest', ['POST', 'submit', 'data']) as { code: number; content: string };
      assert.deepEqual([post.code, post.content], [503, 'failing']);
    });

    it('a call the component cannot make is a WAMP error, and nothing is sent', async () => {
      await assert.rejects(wamp.session.call('com.myapp.rest', [], { url: 'get' }), (e: { error: string }) => e.error === 'wamp.error.runtime_error');
      await assert.rejects(wamp.session.call('com.myapp.rest', [], { method: 'GET', url: 'file:///etc/passwd' }), (e: { error: string }) => e.error === 'wamp.error.runtime_error');
      await assert.rejects(wamp.session.call('com.myapp.rest', [], { method: 'GET', url: 'get', extra: 1 }), (e: { error: string }) => e.error === 'wamp.error.runtime_error');
      assert.equal(endpoint.received.length, 0);
    });
  });
});
