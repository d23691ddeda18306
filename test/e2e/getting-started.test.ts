/**
 * Crossbar.io's getting-started shape in headless Chromium: a node whose config is shaped like
 * crossbar-examples' `getting-started/.crossbar/config.json` (a `static` web directory at "/",
 * a `websocket` at "/ws", `nodeinfo` at "/info"), a page served from that directory that loads
 * Autobahn|JS's browser build (from node_modules/autobahn-browser, copied into the web folder as
 * the example ships it) and does pub/sub with an Autobahn|JS client in Node.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { type AutobahnClient, connectAutobahn } from '../helpers/clients.js';
import { type ConfigNode, NodeDir, startConfigNode, webConfig } from '../helpers/crossbar-node.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const AUTOBAHN_BROWSER = createRequire(import.meta.url).resolve('autobahn-browser/autobahn.min.js');

// The page of getting-started's 2.pubsub-js frontend, in our words: connect to /ws of the
// page's own host, subscribe to com.myapp.hello, publish com.myapp.from_page for each event.
const PAGE = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>xbar getting started</title>
<script src="autobahn.min.js"></script></head>
<body><h1>Pub/Sub from the browser</h1><div id="status">connecting</div><ul id="events"></ul>
<script>
  var wsuri = (document.location.protocol === 'http:' ? 'ws:' : 'wss:') + '//' + document.location.host + '/ws';
  var connection = new autobahn.Connection({ url: wsuri, realm: 'realm1' });
  connection.onopen = function (session) {
    session.subscribe('com.myapp.hello', function (args) {
      var li = document.createElement('li');
      li.textContent = 'Got event: ' + args[0];
      document.getElementById('events').appendChild(li);
      session.publish('com.myapp.from_page', ['echo ' + args[0]]);
    }).then(function () {
      document.getElementById('status').textContent = 'subscribed as session ' + session.id;
      document.body.setAttribute('data-ready', 'yes');
    });
  };
  connection.open();
</script></body></html>
`;

describe('getting started: a static page with Autobahn|JS in headless Chromium', { timeout: 60_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let browser: Browser;
  before(async () => {
    dir.write('web/index.html', PAGE);
    copyFileSync(AUTOBAHN_BROWSER, dir.path('web/autobahn.min.js'));
    t = await startConfigNode(
      dir,
      webConfig({
        '/': { type: 'static', directory: '../web', options: { enable_directory_listing: true } },
        info: { type: 'nodeinfo' },
        ws: { type: 'websocket' },
      }),
    );
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    dir.remove();
  });

  it('loads the page and the browser build from the static service, and does pub/sub both ways', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    let client: AutobahnClient | undefined;
    try {
      const response = await page.goto(`${t.http}/`);
      assert.equal(response?.status(), 200);
      await page.waitForSelector('body[data-ready="yes"]', { timeout: 15_000 });
      assert.match((await page.textContent('#status')) ?? '', /^subscribed as session \d+$/);

      client = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
      const { session } = client;
      const echoes: unknown[] = [];
      let allEchoed!: () => void;
      const echoed = new Promise<void>((r) => (allEchoed = r));
      await session.subscribe('com.myapp.from_page', (args) => {
        if (echoes.push(args?.[0]) === 3) allEchoed();
      });
      for (const n of [1, 2, 3]) await session.publish('com.myapp.hello', [`hello ${n}`], {}, { acknowledge: true });
      await page.waitForFunction(() => document.querySelectorAll('#events li').length === 3, undefined, { timeout: 10_000 });
      assert.deepEqual(await page.$$eval('#events li', (lis) => lis.map((li) => li.textContent)), [
        'Got event: hello 1', 'Got event: hello 2', 'Got event: hello 3',
      ]);
      await echoed;
      assert.deepEqual(echoes, ['echo hello 1', 'echo hello 2', 'echo hello 3']);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}getting-started.png` });
      assert.deepEqual(errors, []);
    } finally {
      await client?.close();
      await page.close();
    }
  });
});
