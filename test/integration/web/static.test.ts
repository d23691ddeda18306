/**
 * The `static` web service over real HTTP (fetch, curl and raw sockets), configured as
 * Crossbar.io configures it: a directory relative to the node directory (`.crossbar/`), or a
 * Python package resource; listing, MIME types, cache timeout and default file; correct headers,
 * conditional GET and ranges; and hostile paths that must never leave the directory.
 */
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type ConfigNode, NodeDir, curl, rawGet, startConfigNode, webConfig } from '../../helpers/crossbar-node.js';

const INDEX = '<!DOCTYPE html><title>home</title><p>hello</p>\n';
const APP_JS = 'console.log("app");\n'.repeat(50);

describe('static web service', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  before(async () => {
    dir.write('web/index.html', INDEX);
    dir.write('web/js/app.js', APP_JS);
    dir.write('web/docs/guide.txt', 'guide\n');
    dir.write('web/data/table.csv', 'a,b\n1,2\n');
    dir.write('web/pics/logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>');
    dir.write('web/bundle.js.gz', Buffer.from([0x1f, 0x8b, 8, 0]));
    dir.write('web/.secret', 'do not serve');
    dir.write('web/weird name %.txt', 'odd');
    dir.write('outside.txt', 'outside the web directory');
    symlinkSync(dir.path('outside.txt'), dir.path('web/escape.txt'));
    symlinkSync(dir.path('web/docs/guide.txt'), dir.path('web/inner-link.txt'));
    symlinkSync('/etc', dir.path('web/etc'));
    t = await startConfigNode(
      dir,
      webConfig({
        '/': { type: 'static', directory: '../web' },
        listed: { type: 'static', directory: '../web', options: { enable_directory_listing: true, mime_types: { '.csv': 'text/x-test-csv' } } },
        spa: { type: 'static', directory: '../web/docs', options: { default_file: 'guide.txt', cache_timeout: null } },
        short: { type: 'static', directory: '../web', options: { cache_timeout: 60 } },
        ws: { type: 'websocket' },
      }),
    );
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('serves index.html at "/" and files by path, relative to the node directory', async () => {
    const home = await fetch(`${t.http}/`);
    assert.equal(home.status, 200);
    assert.equal(await home.text(), INDEX);
    assert.equal(home.headers.get('content-type'), 'text/html; charset=utf-8');
    const js = await fetch(`${t.http}/js/app.js`);
    assert.equal(js.status, 200);
    assert.equal(await js.text(), APP_JS);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(js.headers.get('content-length'), String(Buffer.byteLength(APP_JS)));
    assert.match(js.headers.get('last-modified') ?? '', /GMT$/);
    assert.match(js.headers.get('etag') ?? '', /^W\/"/);
    assert.equal(js.headers.get('accept-ranges'), 'bytes');
    // A name with a space and "%" is one percent-encoded component.
    assert.equal(await (await fetch(`${t.http}/weird%20name%20%25.txt`)).text(), 'odd');
  });

  it('sends Crossbar.io\'s caching and cross-origin headers (12 h by default, per cache_timeout, none for null)', async () => {
    const r = await fetch(`${t.http}/js/app.js`, { headers: { origin: 'http://app.example' } });
    assert.equal(r.headers.get('cache-control'), 'max-age=43200, public');
    const expires = Date.parse(r.headers.get('expires') ?? '');
    assert.ok(Math.abs(expires - (Date.now() + 43_200_000)) < 5_000, 'Expires is 12 h ahead');
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    assert.equal((await fetch(`${t.http}/short/js/app.js`)).headers.get('cache-control'), 'max-age=60, public');
    const none = await fetch(`${t.http}/spa/guide.txt`);
    assert.equal(none.headers.get('cache-control'), null);
    assert.equal(none.headers.get('expires'), null);
  });

  it('answers conditional GETs with 304 (If-None-Match, If-Modified-Since) and a changed ETag with 200', async () => {
    // Raw requests: fetch adds "Cache-Control: no-cache" to conditional requests, which asks for 200.
    const first = await rawGet(t.port, '/js/app.js');
    const etag = first.headers.etag!;
    const modified = first.headers['last-modified']!;
    const byTag = await rawGet(t.port, '/js/app.js', { 'if-none-match': etag });
    assert.equal(byTag.status, 304);
    assert.equal(byTag.body.length, 0);
    assert.equal((await rawGet(t.port, '/js/app.js', { 'if-modified-since': modified })).status, 304);
    assert.equal((await rawGet(t.port, '/js/app.js', { 'if-none-match': 'W/"other"' })).status, 200);
    assert.equal((await rawGet(t.port, '/js/app.js', { 'if-none-match': etag, 'cache-control': 'no-cache' })).status, 200);
    assert.equal((await rawGet(t.port, '/js/app.js', { 'if-match': '"other"' })).status, 412);
    // curl's -z sends If-Modified-Since with the date of a reference.
    assert.equal(await curl(['-o', '/dev/null', '-w', '%{http_code}', '-z', modified, `${t.http}/js/app.js`]), '304');
  });

  it('serves byte ranges (206 with Content-Range), refuses unsatisfiable ones (416) and honours If-Range', async () => {
    const part = await fetch(`${t.http}/js/app.js`, { headers: { range: 'bytes=0-9' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 0-9/${APP_JS.length}`);
    assert.equal(await part.text(), APP_JS.slice(0, 10));
    const tail = await fetch(`${t.http}/js/app.js`, { headers: { range: 'bytes=-5' } });
    assert.equal(await tail.text(), APP_JS.slice(-5));
    const beyond = await fetch(`${t.http}/js/app.js`, { headers: { range: `bytes=${APP_JS.length + 10}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${APP_JS.length}`);
    const stale = await fetch(`${t.http}/js/app.js`, { headers: { range: 'bytes=0-9', 'if-range': 'W/"stale"' } });
    assert.equal(stale.status, 200);
    assert.equal((await stale.text()).length, APP_JS.length);
    // curl's own range request, as a download manager would send it.
    assert.equal(await curl(['-r', '10-19', `${t.http}/js/app.js`]), APP_JS.slice(10, 20));
  });

  it('answers HEAD with the headers only, and other methods with 405', async () => {
    const head = await fetch(`${t.http}/js/app.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(APP_JS.length));
    assert.equal(await head.text(), '');
    const post = await fetch(`${t.http}/js/app.js`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('redirects a directory without its slash (302) and 404s one without an index unless listing is on', async () => {
    const r = await fetch(`${t.http}/docs?x=1`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/docs/?x=1');
    assert.equal((await fetch(`${t.http}/docs/`)).status, 404);
    const listing = await fetch(`${t.http}/listed/docs/`);
    assert.equal(listing.status, 200);
    assert.match(await listing.text(), /Directory listing for \/listed\/docs\/[\s\S]*href="guide.txt"/);
    // The index file wins over the listing.
    assert.equal(await (await fetch(`${t.http}/listed/`)).text(), INDEX);
    const root = await (await fetch(`${t.http}/listed/pics/`)).text();
    assert.match(root, /logo\.svg<\/a><\/td><td>\d+B<\/td><td>image\/svg\+xml/);
    assert.doesNotMatch(await (await fetch(`${t.http}/listed/data/`)).text(), /\.secret/);
    // A "//host" path never turns into a redirect to another host.
    const slashes = await rawGet(t.port, '//docs');
    assert.equal(slashes.status, 302);
    assert.equal(slashes.headers.location, '/docs/');
  });

  it('applies mime_types over the built-in types, and Twisted\'s .gz encoding rule', async () => {
    assert.equal((await fetch(`${t.http}/listed/data/table.csv`)).headers.get('content-type'), 'text/x-test-csv');
    assert.equal((await fetch(`${t.http}/data/table.csv`)).headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal((await fetch(`${t.http}/pics/logo.svg`)).headers.get('content-type'), 'image/svg+xml');
    const gz = await rawGet(t.port, '/bundle.js.gz');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.match(gz.headers['content-type'] ?? '', /^text\/javascript/);
  });

  it('serves default_file (200) for any path that names no file', async () => {
    for (const p of ['/spa/no/such/page', '/spa/', '/spa/guide.txt/']) {
      const r = await fetch(`${t.http}${p}`);
      assert.equal(r.status, 200, p);
      assert.equal(await r.text(), 'guide\n', p);
    }
  });

  it('never serves dot files, and 404s what is not there', async () => {
    assert.equal((await fetch(`${t.http}/.secret`)).status, 404);
    assert.equal((await fetch(`${t.http}/.crossbar/config.json`)).status, 404);
    assert.equal((await fetch(`${t.http}/nope.html`)).status, 404);
    assert.equal((await fetch(`${t.http}/index.html/`)).status, 404);
  });

  it('keeps hostile paths inside the directory: "..", encoded dots and slashes, backslashes, NUL', async () => {
    const hostile = [
      '/../outside.txt', '/js/../../outside.txt', '/%2e%2e/outside.txt', '/%2E%2E/outside.txt', '/js/%2e%2e%2f%2e%2e%2foutside.txt',
      '/..%2foutside.txt', '/..%5coutside.txt', '/js\\..\\..\\outside.txt', '/%2e%2e%5c%2e%2e%5coutside.txt', '/outside.txt%00.html',
      '/%00', '/js/app.js%00', '/%c0%ae%c0%ae/outside.txt', '/.%2e/outside.txt', '/listed/../../outside.txt', '/%252e%252e/outside.txt',
    ];
    for (const p of hostile) {
      const r = await rawGet(t.port, p);
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /outside the web directory/, p);
    }
    assert.doesNotMatch(await curl(['--path-as-is', `${t.http}/../../../../etc/passwd`]), /root:/);
  });

  it('follows symlinks inside the directory but never one that leads out of it', async () => {
    assert.equal(await (await fetch(`${t.http}/inner-link.txt`)).text(), 'guide\n');
    assert.equal((await fetch(`${t.http}/escape.txt`)).status, 404);
    assert.equal((await fetch(`${t.http}/etc/passwd`)).status, 404);
    assert.equal((await fetch(`${t.http}/listed/etc/`)).status, 404);
  });

  it('leaves the websocket path beside it to WebSocket upgrades', async () => {
    const r = await fetch(`${t.http}/ws`);
    assert.equal(r.status, 426);
  });
});

describe('static web service from a Python package resource', () => {
  it('serves the package\'s folder, found as Crossbar.io finds it (importlib.resources)', async () => {
    const dir = new NodeDir();
    const t = await startConfigNode(dir, webConfig({ '/': { type: 'static', package: 'email', resource: 'mime' } }));
    try {
      const r = await fetch(`${t.http}/text.py`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /class MIMEText/);
    } finally {
      await t.stop();
      dir.remove();
    }
  });

  it('looks the package up in the Python the components run under (Debian\'s, where python3-autobahn is), not whichever python3 is first on the PATH', async () => {
    const dir = new NodeDir();
    const t = await startConfigNode(dir, webConfig({ '/': { type: 'static', package: 'autobahn', resource: 'wamp' } }));
    try {
      const r = await fetch(`${t.http}/uri.py`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /def convert_starred_uri/);
    } finally {
      await t.stop();
      dir.remove();
    }
  });

  it('refuses a package that Python cannot import, naming it', async () => {
    const dir = new NodeDir();
    try {
      await assert.rejects(
        startConfigNode(dir, webConfig({ '/': { type: 'static', package: 'no_such_package_xbar', resource: 'web' } })),
        /paths\["\/"\]\.package: could not import resource "web" from Python package "no_such_package_xbar": ModuleNotFoundError/,
      );
    } finally {
      dir.remove();
    }
  });
});
