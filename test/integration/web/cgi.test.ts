/**
 * The `cgi` web service over real HTTP, configured as Crossbar.io's CGI Script Service docs show
 * it (`directory` "../cgi", `processor` a Python 3): the CGI/1.1 environment, PATH_INFO, query and
 * body, the script's Status/Location/headers, broken scripts, hostile paths, and a client that
 * goes away stopping its script.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type ConfigNode, NodeDir, curl, rawGet, startConfigNode, webConfig } from '../../helpers/crossbar-node.js';
import { eventually } from '../../helpers/eventually.js';

const ENV_SCRIPT = `import json, os, sys
body = sys.stdin.read()
keys = ["GATEWAY_INTERFACE", "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_LENGTH",
        "CONTENT_TYPE", "HTTP_X_CUSTOM", "HTTP_PROXY", "PROXY", "SERVER_PROTOCOL", "REMOTE_ADDR", "SCRIPT_FILENAME", "REQUEST_URI"]
print("Content-Type: application/json")
print("X-Script: env")
print()
print(json.dumps({"env": {k: os.environ.get(k) for k in keys}, "body": body, "cwd": os.getcwd(), "argv": sys.argv[1:]}))
`;

describe('cgi web service', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  before(async () => {
    dir.write('cgi/env.py', ENV_SCRIPT);
    dir.write('cgi/sub/teapot.py', 'print("Status: 418 I\'m a teapot")\nprint("Content-Type: text/plain")\nprint()\nprint("short and stout")\n');
    dir.write('cgi/moved.py', 'print("Location: /elsewhere")\nprint()\n');
    dir.write('cgi/broken.py', 'import sys\nsys.stdout.write("no end of headers")\n');
    dir.write('cgi/crash.py', 'raise SystemExit(3)\n');
    dir.write('cgi/forever.py', 'import os, sys\nopen(sys.argv[0] + ".pid", "w").write(str(os.getpid()))\nprint("Content-Type: text/plain\\n")\nwhile True:\n    sys.stdout.write("x" * 65536)\n    sys.stdout.flush()\n');
    dir.write('secret.py', 'print("Content-Type: text/plain\\n\\nshould never run")\n');
    symlinkSync(dir.path('secret.py'), dir.path('cgi/link.py'));
    t = await startConfigNode(dir, webConfig({ myscripts: { type: 'cgi', directory: '../cgi', processor: '/usr/bin/python3' } }));
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('runs processor SCRIPT with the CGI environment, the body on stdin, in the script’s folder', async () => {
    const r = await fetch(`${t.http}/myscripts/env.py/extra/path?a=1&b=x%20y`, {
      method: 'POST', body: 'hello=cgi', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-custom': 'yes', proxy: 'http://evil:1' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.headers.get('x-script'), 'env');
    const out = (await r.json()) as { env: Record<string, string | null>; body: string; cwd: string; argv: string[] };
    assert.deepEqual(out.env, {
      GATEWAY_INTERFACE: 'CGI/1.1', REQUEST_METHOD: 'POST', SCRIPT_NAME: '/myscripts/env.py', PATH_INFO: '/extra/path',
      QUERY_STRING: 'a=1&b=x%20y', CONTENT_LENGTH: '9', CONTENT_TYPE: 'application/x-www-form-urlencoded', HTTP_X_CUSTOM: 'yes',
      HTTP_PROXY: null, PROXY: null, SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1',
      SCRIPT_FILENAME: dir.path('cgi/env.py'), REQUEST_URI: '/myscripts/env.py/extra/path?a=1&b=x%20y',
    });
    assert.equal(out.body, 'hello=cgi');
    assert.equal(out.cwd, dir.path('cgi'));
    assert.deepEqual(out.argv, []);
  });

  it('takes the status from Status:, 302 from Location:, and serves scripts in sub-folders', async () => {
    const tea = await fetch(`${t.http}/myscripts/sub/teapot.py`);
    assert.equal(tea.status, 418);
    assert.equal(await tea.text(), 'short and stout\n');
    const moved = await fetch(`${t.http}/myscripts/moved.py`, { redirect: 'manual' });
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.get('location'), '/elsewhere');
    assert.equal(await curl(['-o', '/dev/null', '-w', '%{http_code}', `${t.http}/myscripts/sub/teapot.py`]), '418');
  });

  it('answers 500 for a script that ends before its headers, and 404 for folders and what is not there', async () => {
    assert.equal((await fetch(`${t.http}/myscripts/broken.py`)).status, 500);
    assert.equal((await fetch(`${t.http}/myscripts/crash.py`)).status, 500);
    assert.equal((await fetch(`${t.http}/myscripts/`)).status, 404);
    assert.equal((await fetch(`${t.http}/myscripts/sub`)).status, 404);
    assert.equal((await fetch(`${t.http}/myscripts/nope.py`)).status, 404);
  });

  it('never runs anything outside the directory', async () => {
    for (const p of ['/myscripts/../secret.py', '/myscripts/%2e%2e/secret.py', '/myscripts/..%2fsecret.py', '/myscripts/link.py', '/myscripts/sub/..%5c..%5csecret.py']) {
      const r = await rawGet(t.port, p);
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /should never run/, p);
    }
  });

  it('stops the script of a client that goes away', async () => {
    const pidFile = dir.path('cgi/forever.py.pid');
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${t.http}/myscripts/forever.py`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
    });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await eventually(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), `script ${pid} to stop`, 10_000);
  });
});
