/**
 * The `archive` web service over real HTTP: ZIP files made by Python's zipfile (the module
 * Crossbar.io itself reads them with), served with Crossbar.io's options — default_object,
 * object_prefix, mime_types, options.default_file, cache — downloaded at start from an origin
 * (a local HTTP server) and checked against SHA-256 hashes; hostile entry names and paths.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ConfigNode, NodeDir, rawGet, startConfigNode, webConfig } from '../../helpers/crossbar-node.js';

const BIG = 'x'.repeat(100_000) + 'END';

/** Writes a ZIP with Python's zipfile; `entries` maps names (used verbatim, even hostile) to text. */
function makeZip(file: string, entries: Record<string, string>): void {
  const script = [
    'import json, sys, zipfile',
    'entries = json.loads(sys.argv[2])',
    'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:',
    '    for name, text in entries.items():',
    '        z.writestr(zipfile.ZipInfo(name, (2024, 5, 6, 7, 8, 10)), text)',
  ].join('\n');
  execFileSync('python3', ['-c', script, file, JSON.stringify(entries)]);
}

describe('archive web service', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  before(async () => {
    makeZip(dir.path('home.zip'), {
      'index.html': '<p>home</p>',
      'app/main.js': 'main();',
      'app/big.txt': BIG,
      'data.csv': 'a,b',
      'lib-1.0/autobahn.min.js': 'autobahn();',
      'lib-1.0/autobahn.min.jgz': 'gz-bytes',
      '../escape.txt': 'should never be served',
      'docs/': '',
      '.hidden': 'hidden',
    });
    t = await startConfigNode(
      dir,
      webConfig({
        '/': { type: 'archive', archive: '../home.zip', default_object: 'index.html', cache: true, mime_types: { '.csv': 'text/x-test' } },
        autobahn: {
          type: 'archive', archive: '../home.zip', object_prefix: 'lib-1.0', default_object: 'autobahn.min.js',
          mime_types: { '.min.js': 'text/javascript', '.jgz': 'text/javascript' },
        },
        spa: { type: 'archive', archive: '../home.zip', options: { default_file: 'index.html' } },
      }),
    );
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('serves entries by path with their type, and default_object for "" and paths ending in "/"', async () => {
    const home = await fetch(`${t.http}/`);
    assert.equal(home.status, 200);
    assert.equal(await home.text(), '<p>home</p>');
    assert.equal(home.headers.get('content-type'), 'text/html; charset=utf-8');
    const js = await fetch(`${t.http}/app/main.js`);
    assert.equal(await js.text(), 'main();');
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(js.headers.get('content-length'), '7');
    assert.equal((await fetch(`${t.http}/data.csv`)).headers.get('content-type'), 'text/x-test');
    assert.equal((await fetch(`${t.http}/app/`)).status, 404, 'app/index.html is not in the archive');
  });

  it('object_prefix and mime_types: /autobahn serves lib-1.0/autobahn.min.js, .jgz as text/javascript', async () => {
    const r = await fetch(`${t.http}/autobahn`);
    assert.equal(await r.text(), 'autobahn();');
    assert.equal(r.headers.get('content-type'), 'text/javascript');
    const gz = await fetch(`${t.http}/autobahn/autobahn.min.jgz`);
    assert.equal(gz.headers.get('content-type'), 'text/javascript');
    assert.equal(gz.headers.get('content-encoding'), null);
  });

  it('serves options.default_file for unknown paths, and 404 without it', async () => {
    const r = await fetch(`${t.http}/spa/no/such/route`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '<p>home</p>');
    assert.equal((await fetch(`${t.http}/nope.txt`)).status, 404);
  });

  it('serves large entries whole, ranges of them (206/416), and 304 for a matching ETag', async () => {
    const big = await fetch(`${t.http}/app/big.txt`);
    assert.equal((await big.text()).length, BIG.length);
    const etag = big.headers.get('etag')!;
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(big.headers.get('last-modified'), 'Mon, 06 May 2024 07:08:10 GMT');
    const tail = await fetch(`${t.http}/app/big.txt`, { headers: { range: 'bytes=-3' } });
    assert.equal(tail.status, 206);
    assert.equal(await tail.text(), 'END');
    assert.equal(tail.headers.get('content-range'), `bytes ${BIG.length - 3}-${BIG.length - 1}/${BIG.length}`);
    assert.equal((await fetch(`${t.http}/app/big.txt`, { headers: { range: `bytes=${BIG.length}-` } })).status, 416);
    assert.equal((await rawGet(t.port, '/app/big.txt', { 'if-none-match': etag })).status, 304);
    assert.equal((await fetch(`${t.http}/app/big.txt`, { method: 'DELETE' })).status, 405);
  });

  it('never serves an entry named "../x", dot files or directory entries, and keeps hostile paths in the archive', async () => {
    for (const p of ['/../escape.txt', '/%2e%2e/escape.txt', '/..%2fescape.txt', '/.hidden', '/docs/', '/app/..%5cbig.txt', '/index.html%00']) {
      const r = await rawGet(t.port, p);
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /should never be served|hidden/, p);
    }
    assert.equal(existsSync(dir.path('escape.txt')), false);
  });
});

describe('archive web service: download from origin and SHA-256 check', () => {
  const dir = new NodeDir();
  let origin: http.Server;
  let url: string;
  let zip: Buffer;
  let requests = 0;
  before(async () => {
    makeZip(dir.path('source.zip'), { 'autobahn.min.js': 'downloaded();' });
    zip = readFileSync(dir.path('source.zip'));
    origin = http.createServer((req, res) => {
      requests++;
      if (req.url === '/v1.zip') res.end(zip);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => origin.close(r));
    dir.remove();
  });

  const service = (archive: string, extra: Record<string, unknown>) =>
    webConfig({ lib: { type: 'archive', archive, origin: `${url}/v1.zip`, default_object: 'autobahn.min.js', download: true, cache: true, ...extra } });

  it('downloads a missing archive at start, verifies its hash and serves it', async () => {
    const hash = createHash('sha256').update(zip).digest('hex');
    const t = await startConfigNode(dir, service('lib.zip', { hashes: [hash.toUpperCase()] }));
    try {
      assert.equal(await (await fetch(`${t.http}/lib`)).text(), 'downloaded();');
      assert.ok(existsSync(dir.path('.crossbar/lib.zip')), 'stored relative to the node directory');
    } finally {
      await t.stop();
    }
    // Next start: the file is there, nothing is downloaded.
    const before = requests;
    const again = await startConfigNode(dir, service('lib.zip', { hashes: [hash] }));
    await again.stop();
    assert.equal(requests, before);
  });

  it('refuses to start when the archive matches none of the hashes, and stores nothing of a failed download', async () => {
    await assert.rejects(startConfigNode(dir, service('other.zip', { hashes: ['0'.repeat(64)] })), /matches none of the configured hashes/);
    await assert.rejects(
      startConfigNode(dir, webConfig({ lib: { type: 'archive', archive: 'missing.zip', origin: `${url}/gone.zip`, download: true } })),
      /HTTP 404/,
    );
    assert.equal(existsSync(dir.path('.crossbar/missing.zip')), false);
    assert.equal(existsSync(dir.path('.crossbar/missing.zip.download')), false);
  });

  it('an archive that is missing with no origin to fetch it from passes the check (as Crossbar.io\'s) and fails the start', async () => {
    await assert.rejects(
      startConfigNode(dir, webConfig({ lib: { type: 'archive', archive: 'absent.zip' } })),
      /archive ".*absent\.zip" does not exist, and there is no "origin" to download it from/,
    );
  });
});
