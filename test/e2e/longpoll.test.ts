/**
 * Crossbar.io's `longpoll` example unchanged (crossbar-examples/longpoll: its config.json and its
 * web/index.html, with Autobahn|JS's browser build where the page loads it; the Python backend
 * component left out): in headless Chromium
 * the page's Autobahn|JS connects over its own `type: 'longpoll'` transport, and talks to an
 * Autobahn|JS client on the example's WebSocket path — events both ways and calls both ways.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { type AutobahnClient, connectAutobahn } from '../helpers/clients.js';
import { type ConfigNode, NodeDir, startConfigNode } from '../helpers/crossbar-node.js';
import { eventually } from '../helpers/eventually.js';

const EXAMPLE = fileURLToPath(new URL('../../../test/fixtures/crossbar-examples/longpoll', import.meta.url));
const AUTOBAHN_BROWSER = createRequire(import.meta.url).resolve('autobahn-browser/autobahn.min.js');

// The page's `connection` (a top-level var) as the test drives it.
declare const connection: {
  session: {
    publish(topic: string, args: unknown[], kwargs?: object, options?: object): Promise<unknown>;
    call(procedure: string, args: unknown[]): Promise<unknown>;
    register(procedure: string, fn: (args: unknown[]) => unknown): Promise<unknown>;
  } | null;
  transport: { info: { type: string; protocol: string } };
};

describe('the longpoll example: Autobahn|JS long-poll in Chromium with WebSocket clients', { timeout: 60_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let browser: Browser;
  let page: Page;
  let ws: AutobahnClient;
  const console: string[] = [];
  before(async () => {
    dir.write('web/index.html', readFileSync(`${EXAMPLE}/web/index.html`));
    mkdirSync(dir.path('web/shared/autobahn'), { recursive: true });
    copyFileSync(AUTOBAHN_BROWSER, dir.path('web/shared/autobahn/autobahn.min.js'));
    // The example's Python backend (a router component publishing oncounter) is played by the
    // WebSocket client; the rest of the config is the example's.
    const doc = JSON.parse(readFileSync(`${EXAMPLE}/.crossbar/config.json`, 'utf8')) as { workers: Record<string, unknown>[] };
    delete doc.workers[0]!.components;
    t = await startConfigNode(dir, doc);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (m) => console.push(m.text()));
    assert.equal((await page.goto(`${t.http}/`))?.status(), 200);
    await page.click('text=Open Session');
    await eventually(() => console.includes('subscribed to topic'), 'the page to subscribe over long-poll', 15_000);
    ws = await connectAutobahn(`ws://127.0.0.1:${t.port}/ws`);
  });
  after(async () => {
    await ws?.close();
    await browser?.close();
    await t?.stop();
    dir.remove();
  });

  it('the page runs on the longpoll transport', async () => {
    const info = await page.evaluate(() => connection.transport.info);
    assert.equal(info.type, 'longpoll');
    assert.equal(info.protocol, 'wamp.2.json');
    assert.ok(console.some((l) => l.startsWith('Connected: ') && l.includes('"type":"longpoll"')), console.join('\n'));
  });

  it('events a WebSocket client publishes reach the long-poll page (the example backend\'s oncounter)', async () => {
    for (const n of [0, 1, 2]) await ws.session.publish('com.example.oncounter', [n], {}, { acknowledge: true });
    await eventually(
      () => [0, 1, 2].every((n) => console.includes(`on_counter() event received with counter ${n}`)),
      'three counter events on the page',
      10_000,
    );
  });

  it('events the long-poll page publishes reach the WebSocket client', async () => {
    const got: unknown[] = [];
    await ws.session.subscribe('com.example.frompage', (args) => void got.push(args?.[0]));
    await page.evaluate(() => connection.session!.publish('com.example.frompage', [{ text: 'ä€😀', n: 1 }], {}, { acknowledge: true }));
    await eventually(() => got.length === 1, 'the page\'s event');
    assert.deepEqual(got, [{ text: 'ä€😀', n: 1 }]);
  });

  it('calls go both ways between the long-poll page and the WebSocket client', async () => {
    await ws.session.register('com.example.ws_add', (args) => (args![0] as number) + (args![1] as number));
    assert.equal(await page.evaluate(() => connection.session!.call('com.example.ws_add', [2, 3])), 5);
    await page.evaluate(() => connection.session!.register('com.example.page_mul', (args) => (args[0] as number) * (args[1] as number)));
    assert.equal(await ws.session.call('com.example.page_mul', [6, 7]), 42);
  });

  it('the page leaves and its transport is gone from the service', async () => {
    await page.click('text=Close Session');
    await eventually(() => console.some((l) => l.startsWith('Connection gone: ')), 'the page to see its connection close', 10_000);
    const sessions = await eventually(async () => (await ws.session.call('wamp.session.count')) === 1, 'one session left');
    assert.equal(sessions, true);
  });
});
