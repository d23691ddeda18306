/**
 * The small web services and the path tree over real HTTP, configured as Crossbar.io's
 * `webservices/path` example configures them: `json`, `redirect` and `nodeinfo`, and `path`
 * services nested two deep with a `websocket` inside, where a folder without a "/" child
 * answers 404 for itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn } from '../../helpers/clients.js';
import { type ConfigNode, NodeDir, rawGet, startConfigNode, webConfig } from '../../helpers/crossbar-node.js';

const CONFIG_VALUE = { url: 'ws://localhost:8080/ws', realm: 'testing', nested: { list: [1, 2.5, 'três', null, true] } };

function tree(): Record<string, unknown> {
  return {
    '/': { type: 'static', directory: '../web' },
    info: { type: 'nodeinfo' },
    config: { type: 'json', value: CONFIG_VALUE },
    pretty: { type: 'json', value: CONFIG_VALUE, options: { prettify: true, allow_cross_origin: false, discourage_caching: true } },
    old: { type: 'redirect', url: 'https://example.com/new' },
    ws: { type: 'websocket' },
    nested: {
      type: 'path',
      paths: {
        '/': { type: 'static', directory: '../web/nested' },
        config: { type: 'json', value: 'nested value' },
        ws: { type: 'websocket' },
        deeper: { type: 'path', paths: { info: { type: 'nodeinfo' }, back: { type: 'redirect', url: '/' } } },
      },
    },
  };
}

describe('web path tree and the json, redirect and nodeinfo services', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  before(async () => {
    dir.write('web/index.html', 'root page');
    dir.write('web/nested/index.html', 'nested page');
    dir.write('web/nested/deeper/file.txt', 'shadowed by the deeper path service');
    t = await startConfigNode(dir, webConfig(tree()));
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('json: serves the value compactly as application/json with cross-origin headers', async () => {
    const r = await fetch(`${t.http}/config`, { headers: { origin: 'http://page.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://page.example');
    const text = await r.text();
    assert.equal(text, JSON.stringify(CONFIG_VALUE));
    assert.deepEqual(JSON.parse(text), CONFIG_VALUE);
    assert.equal(r.headers.get('content-length'), String(Buffer.byteLength(text)));
  });

  it('json: prettify indents by 3, allow_cross_origin false sends no CORS headers, discourage_caching sends no-store', async () => {
    const r = await fetch(`${t.http}/pretty`, { headers: { origin: 'http://page.example' } });
    assert.equal(await r.text(), JSON.stringify(CONFIG_VALUE, null, 3));
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.equal(r.headers.get('cache-control'), 'no-store, no-cache, must-revalidate, max-age=0');
    assert.equal((await fetch(`${t.http}/config`, { method: 'PUT', body: '{}' })).status, 405);
  });

  it('redirect: answers 302 to the configured URL, for the path and anything below it', async () => {
    for (const p of ['/old', '/old/', '/old/a/b?c=d']) {
      const r = await fetch(`${t.http}${p}`, { redirect: 'manual' });
      assert.equal(r.status, 302, p);
      assert.equal(r.headers.get('location'), 'https://example.com/new', p);
    }
    assert.equal((await fetch(`${t.http}/old`, { method: 'POST', redirect: 'manual' })).status, 405);
  });

  it('nodeinfo: an HTML page with the release, process id, node id and the requesting peer', async () => {
    const r = await fetch(`${t.http}/info`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await r.text();
    assert.match(html, /xbar \d+\.\d+\.\d+/);
    assert.match(html, new RegExp(`<b>${process.pid}</b>`));
    assert.match(html, new RegExp(t.node.backplane.nodeId));
    assert.match(html, /Served for 127\.0\.0\.1:\d+/);
  });

  it('path: nests services; its "/" child serves the folder itself; a folder without one is 404', async () => {
    assert.equal(await (await fetch(`${t.http}/`)).text(), 'root page');
    assert.equal(await (await fetch(`${t.http}/nested/`)).text(), 'nested page');
    assert.equal(await (await fetch(`${t.http}/nested/config`)).json(), 'nested value');
    assert.match(await (await fetch(`${t.http}/nested/deeper/info`)).text(), /xbar \d/);
    assert.equal((await fetch(`${t.http}/nested/deeper/back`, { redirect: 'manual' })).headers.get('location'), '/');
    // "deeper" has no "/" child: 404 for it and anything below it that it does not name, even
    // though the nested static directory has a "deeper" folder (Crossbar.io's Resource404).
    assert.equal((await fetch(`${t.http}/nested/deeper`)).status, 404);
    assert.equal((await fetch(`${t.http}/nested/deeper/file.txt`)).status, 404);
    // An encoded "/" stays inside its component and reaches no other service.
    assert.equal((await rawGet(t.port, '/nested%2Fconfig')).status, 404);
  });

  it('path: a websocket nested in a path service carries WAMP (Autobahn|JS)', async () => {
    const client = await connectAutobahn(`ws://127.0.0.1:${t.port}/nested/ws`);
    const { session } = client;
    try {
      let received!: (v: unknown) => void;
      const got = new Promise<unknown>((resolve) => (received = resolve));
      await session.subscribe('com.example.nested', (args) => received(args?.[0]));
      await session.publish('com.example.nested', ['hi'], {}, { acknowledge: true, exclude_me: false });
      assert.equal(await got, 'hi');
    } finally {
      await client.close();
    }
  });
});
