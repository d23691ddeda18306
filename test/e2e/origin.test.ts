/**
 * The Origin check in headless Chromium (issue 11, item 12): a page that the browser believes
 * comes from https://evil.example… (Chromium's host resolver maps the name to 127.0.0.1, so
 * nothing leaves loopback) cannot open a WAMP WebSocket to the embedded default node, while the
 * same page served from http://localhost:<port> can and joins realm1.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type Browser, chromium } from 'playwright-core';
import { defaultConfig } from '../../src/config/defaults.js';
import type { TransportConfig } from '../../src/config/types.js';
import { XbarNode } from '../../src/node.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A page that opens a WAMP WebSocket, sends HELLO and reports what happened in document.title. */
const PAGE = (wsUrl: string) => `<!DOCTYPE html><title>waiting</title><script>
const ws = new WebSocket(${JSON.stringify(wsUrl)}, ["wamp.2.json"]);
ws.onopen = () => ws.send(JSON.stringify([1, "realm1", {roles: {subscriber: {}}}]));
ws.onmessage = (e) => { document.title = JSON.parse(e.data)[0] === 2 ? "welcome" : "other"; };
ws.onclose = (e) => { if (document.title === "waiting") document.title = "closed " + e.code; };
</script>`;

describe('the Origin check in headless Chromium', { timeout: 30_000 }, () => {
  let node: XbarNode;
  let pages: http.Server;
  let browser: Browser;
  let pagePort: number;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    const c = defaultConfig();
    node = new XbarNode(
      { ...c, transports: c.transports.map((t): TransportConfig => ({ ...t, endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 } })) },
      { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) },
    );
    await node.start();
    const wsUrl = `ws://127.0.0.1:${node.port('web')}/ws`;
    pages = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE(wsUrl));
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    pagePort = (pages.address() as AddressInfo).port;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        '--host-resolver-rules=MAP evil.example 127.0.0.1',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => pages?.close(r));
    await node?.stop();
  });

  const titleAfterLoading = async (url: string): Promise<string> => {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.waitForFunction(() => document.title !== 'waiting', undefined, { timeout: 10_000 });
      return await page.title();
    } finally {
      await page.close();
    }
  };

  it('a page from another origin cannot open the WebSocket', async () => {
    const before = node.edgeRefusals.origin.get({ path: '/ws', reason: 'not_allowed' });
    assert.equal(await titleAfterLoading(`http://evil.example:${pagePort}/`), 'closed 1006');
    assert.equal(node.edgeRefusals.origin.get({ path: '/ws', reason: 'not_allowed' }), before + 1, 'refused for its Origin');
  });

  it('the same page from localhost joins realm1', async () => {
    assert.equal(await titleAfterLoading(`http://localhost:${pagePort}/`), 'welcome');
  });
});
