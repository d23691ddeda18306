/**
 * The `sse` path service: a Server-Sent Events stream of one subscription, followed with
 * `curl -N` and with fetch (undici), events published by an Autobahn|JS session; exact, prefix
 * and wildcard matches; the role's subscribe permission decides as for a WAMP subscriber; and
 * a hostile client that never reads holds at most `max_out_buffer` while the others get every
 * event (drop), or is closed (disconnect), counted in /metrics.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type AutobahnClient, connectAutobahn } from '../../helpers/clients.js';
import { type ConfigNode, NodeDir, startConfigNode } from '../../helpers/crossbar-node.js';
import { eventually } from '../../helpers/eventually.js';

const ALL = { call: true, register: true, publish: true, subscribe: true };

function config(): Record<string, unknown> {
  return {
    version: 2,
    workers: [{
      type: 'router',
      realms: [{
        name: 'realm1',
        roles: [
          { name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: ALL }] },
          { name: 'viewer', permissions: [{ uri: 'com.public.', match: 'prefix', allow: { subscribe: true } }] },
        ],
      }],
      transports: [{
        type: 'web',
        endpoint: { type: 'tcp', port: 8080 },
        paths: {
          ws: { type: 'websocket' },
          events: { type: 'sse', realm: 'realm1', role: 'anonymous', options: { max_out_buffer: 65_536 } },
          strict: { type: 'sse', realm: 'realm1', role: 'anonymous', options: { max_out_buffer: 65_536, slow_consumer: 'disconnect' } },
          public: { type: 'sse', realm: 'realm1', role: 'viewer' },
          metrics: { type: 'metrics' },
        },
      }],
    }],
  };
}

interface SseEvent {
  id: string;
  data: { topic: string; args: unknown[]; kwargs: Record<string, unknown> };
}

/** Splits an event stream's text into events (comments skipped); returns what is left over. */
function parseEvents(buffer: string, out: SseEvent[]): string {
  let at: number;
  while ((at = buffer.indexOf('\n\n')) >= 0) {
    const block = buffer.slice(0, at);
    buffer = buffer.slice(at + 2);
    const fields = new Map(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]));
    if (fields.has('data')) out.push({ id: fields.get('id') ?? '', data: JSON.parse(fields.get('data')!) as SseEvent['data'] });
  }
  return buffer;
}

/** Follows `url` with fetch; events land in `events`. */
async function follow(url: string): Promise<{ events: SseEvent[]; status: number; type: string | null; stop(): void }> {
  const ac = new AbortController();
  const r = await fetch(url, { signal: ac.signal });
  const events: SseEvent[] = [];
  if (r.ok && r.body) {
    void (async () => {
      let text = '';
      const decoder = new TextDecoder();
      try {
        for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) text = parseEvents(text + decoder.decode(chunk, { stream: true }), events);
      } catch {
        // aborted
      }
    })();
  }
  return { events, status: r.status, type: r.headers.get('content-type'), stop: () => ac.abort() };
}

/** An HTTP client that sends the request and never reads a byte of the answer. */
function neverReads(port: number, path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.pause();
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, () => resolve(s));
    });
    s.on('error', () => undefined);
    s.once('error', reject);
  });
}

describe('sse path service', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let pub: AutobahnClient;
  const publish = (topic: string, args: unknown[], kwargs: Record<string, unknown> = {}) =>
    pub.session.publish(topic, args, kwargs, { acknowledge: true });

  before(async () => {
    t = await startConfigNode(dir, config());
    pub = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
  });
  after(async () => {
    await pub?.close();
    await t?.stop();
    dir.remove();
  });

  it('streams a topic\'s events to fetch, with the publication id', async () => {
    const s = await follow(`${t.http}/events?topic=com.myapp.topic1`);
    assert.equal(s.status, 200);
    assert.equal(s.type, 'text/event-stream; charset=utf-8');
    const id = await publish('com.myapp.topic1', ['Hello', 23], { n: 1 }) as unknown as { id: number };
    await publish('com.myapp.other', ['not this']);
    await eventually(() => s.events.length === 1, 'the event');
    assert.deepEqual(s.events[0]!.data, { topic: 'com.myapp.topic1', args: ['Hello', 23], kwargs: { n: 1 } });
    assert.equal(s.events[0]!.id, String(id.id));
    s.stop();
  });

  it('follows with curl -N, with prefix and wildcard matches naming each event\'s topic', async () => {
    const curlFollow = (query: string): { proc: ChildProcess; events: SseEvent[]; headers: () => string } => {
      const proc = spawn('curl', ['-s', '-N', '-i', `${t.http}/events?${query}`]);
      const events: SseEvent[] = [];
      let text = '';
      let head = '';
      proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        if (!head && text.includes('\r\n\r\n')) {
          head = text.slice(0, text.indexOf('\r\n\r\n'));
          text = text.slice(head.length + 4);
        }
        if (head) text = parseEvents(text, events);
      });
      return { proc, events, headers: () => head };
    };
    const prefix = curlFollow('topic=com.myapp.&match=prefix');
    const wildcard = curlFollow('topic=com..update&match=wildcard');
    try {
      await eventually(() => prefix.headers() !== '' && wildcard.headers() !== '', 'both streams open');
      assert.match(prefix.headers(), /^HTTP\/1\.1 200 /);
      await publish('com.myapp.a', [1]);
      await publish('com.shop.update', [2]);
      await publish('com.myapp.update', [3]);
      await eventually(() => prefix.events.length === 2 && wildcard.events.length === 2, 'the matching events');
      assert.deepEqual(prefix.events.map((e) => [e.data.topic, e.data.args]), [['com.myapp.a', [1]], ['com.myapp.update', [3]]]);
      assert.deepEqual(wildcard.events.map((e) => [e.data.topic, e.data.args]), [['com.shop.update', [2]], ['com.myapp.update', [3]]]);
    } finally {
      prefix.proc.kill();
      wildcard.proc.kill();
    }
  });

  it('authorizes as the router does a WAMP subscriber of the service\'s role', async () => {
    const refused = await fetch(`${t.http}/public?topic=com.private.x`);
    assert.equal(refused.status, 403);
    assert.equal((await refused.json() as { error: string }).error, 'wamp.error.not_authorized');
    const allowed = await follow(`${t.http}/public?topic=com.public.news`);
    assert.equal(allowed.status, 200);
    await publish('com.public.news', ['hi']);
    await eventually(() => allowed.events.length === 1, 'the public event');
    allowed.stop();
  });

  it('refuses bad requests with a reason', async () => {
    const cases: [string, RequestInit, number][] = [
      ['events', {}, 400],
      ['events?topic=com.x&match=regex', {}, 400],
      ['events?topic=com..x', {}, 400],
      ['events?topic=com.x', { method: 'POST', body: 'x' }, 405],
    ];
    for (const [path, init, status] of cases) {
      const r = await fetch(`${t.http}/${path}`, init);
      assert.equal(r.status, status, path);
      assert.equal(typeof (await r.json() as { error: string }).error, 'string');
    }
  });

  // Publishes 16 KiB events (each well below max_out_buffer) until the stream of `path` has missed
  // one or been closed, as `reason` counts; the kernel's socket buffers take the first megabytes.
  async function floodUntil(path: string, topic: string, reason: 'event' | 'stream'): Promise<number> {
    const payload = 'x'.repeat(16 * 1024);
    let n = 0;
    while (t.node.bridgeCounts.sseDropped.get({ path, reason }) === 0) {
      assert.ok(n < 4000, 'the hostile stream was never found slow');
      await publish(topic, [n++, payload]);
    }
    return n;
  }

  it('a client that never reads costs at most max_out_buffer: it misses events (counted), the others get all', async () => {
    const hostile = await neverReads(t.port, '/events?topic=com.flood');
    const good = await follow(`${t.http}/events?topic=com.flood`);
    const count = await floodUntil('/events', 'com.flood', 'event');
    await publish('com.flood', [count, 'last']);
    await eventually(() => good.events.length === count + 1, `all ${count + 1} events at the reading client`, 30_000);
    assert.deepEqual(good.events.map((e) => e.data.args[0]), Array.from({ length: count + 1 }, (_, i) => i));
    const dropped = t.node.bridgeCounts.sseDropped.get({ path: '/events', reason: 'event' });
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    assert.match(metrics, new RegExp(`xbar_sse_dropped_total\\{path="/events",reason="event"\\} ${dropped}`));
    hostile.destroy();
    good.stop();
  });

  it('with slow_consumer "disconnect", a client that never reads is closed and the others go on', async () => {
    const hostile = await neverReads(t.port, '/strict?topic=com.flood2');
    const good = await follow(`${t.http}/strict?topic=com.flood2`);
    await floodUntil('/strict', 'com.flood2', 'stream');
    await publish('com.flood2', ['last']);
    await eventually(() => good.events.some((e) => e.data.args[0] === 'last'), 'the reading client goes on');
    assert.equal(t.node.bridgeCounts.sseDropped.get({ path: '/strict', reason: 'stream' }), 1);
    hostile.destroy();
    good.stop();
});
});
