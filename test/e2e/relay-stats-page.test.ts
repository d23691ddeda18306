/**
 * The relay's stats page in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): a live row per connection, numbers that change as traffic flows, a screenshot
 * in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { Client, type RelayNode, startRelay } from '../integration/relay/support.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

describe('relay stats page in headless Chromium', () => {
  let t: RelayNode;
  let browser: Browser;
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    t = await startRelay();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows a live row per connection whose numbers change as traffic flows', async () => {
    const camera = await Client.open(`${t.base}/in/pendulum`, { headers: { 'user-agent': 'ffmpeg/6.0 (lab camera)' } });
    const viewers = await Promise.all([1, 2].map(() => Client.open(`${t.base}/out/pendulum`)));
    const data = await Promise.all([1, 2].map(() => Client.open(`${t.base}/pendulum-data`)));
    // 30 fps of 2 KiB "video" and 10 Hz JSON data while the page is open.
    let frame = 0;
    const video = setInterval(() => camera.ws.send(Buffer.alloc(2048, frame++ & 0xff), { binary: true }), 1000 / 30);
    const json = setInterval(() => data[0]!.ws.send(JSON.stringify({ angle: Math.sin(frame / 10), t: Date.now() })), 100);

    const page = await browser.newPage({ viewport: { width: 1400, height: 500 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    try {
      await page.goto(`${t.http}/relay/stats`);
      await page.waitForSelector('#connections tbody tr', { timeout: 10_000 });
      assert.equal(await page.locator('#connections tbody tr').count(), 5, 'one row per relay connection');
      assert.deepEqual(
        (await page.locator('td[data-k="topic"]').allTextContents()).sort(),
        ['in/pendulum', 'out/pendulum', 'out/pendulum', 'pendulum-data', 'pendulum-data'],
      );
      assert.match(await page.locator('#status').textContent() ?? '', /5 connections.*\(live\)/);
      const cameraRow = page.locator('tr', { has: page.locator('td[data-k="topic"]', { hasText: 'in/pendulum' }) });
      assert.equal(await cameraRow.locator('td[data-k="userAgent"]').textContent(), 'ffmpeg/6.0 (lab camera)');
      assert.equal(await cameraRow.locator('td[data-k="access"]').textContent(), 'read+write');
      assert.equal(await page.locator('tr.ro td[data-k="access"]').first().textContent(), 'read');

      const viewerCount = () => page.locator('tr.ro td[data-k="rx.count"]').first().textContent().then(Number);
      const sentCount = () => cameraRow.locator('td[data-k="tx.count"]').textContent().then(Number);
      const reports = () => page.locator('body').getAttribute('data-reports').then(Number);
      const [count0, sent0, r0] = [await viewerCount(), await sentCount(), await reports()];

      // The page asks for a report every 5 s; wait for the next one and compare.
      await page.waitForFunction((n) => Number(document.body.getAttribute('data-reports')) > n, r0, { timeout: 12_000 });
      const [count1, sent1] = [await viewerCount(), await sentCount()];
      assert.ok(count1 > count0, `viewer's received count grew (${count0} → ${count1})`);
      assert.ok(sent1 > sent0, `camera's sent count grew (${sent0} → ${sent1})`);
      const fps = Number(await cameraRow.locator('td[data-k="tx.fps"]').textContent());
      assert.ok(fps > 10 && fps < 60, `camera fps about 30, shown ${fps}`);
      assert.equal(await cameraRow.locator('td[data-k="tx.size"]').textContent(), '2048');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}relay-stats.png`, fullPage: true });

      // A closed connection disappears at the next refresh.
      await data[1]!.close();
      const r1 = await reports();
      await page.waitForFunction((n) => Number(document.body.getAttribute('data-reports')) > n, r1, { timeout: 12_000 });
      assert.equal(await page.locator('#connections tbody tr').count(), 4);
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      clearInterval(video);
      clearInterval(json);
      await page.close();
      await Promise.all([camera, ...viewers, ...data].map((c) => c.close()));
    }
  });

  it('falls back to polling JSON when the stats channel is unavailable', async () => {
    const a = await Client.open(`${t.base}/polled`);
    const page = await browser.newPage();
    // Refuse the page's WebSocket, as a proxy without WebSocket support would.
    await page.routeWebSocket(/\/relay\/stats/, (ws) => ws.close({ code: 1011, reason: 'no websockets here' }));
    try {
      await page.goto(`${t.http}/relay/stats`);
      await page.waitForSelector('td[data-k="topic"]', { timeout: 12_000 });
      assert.deepEqual(await page.locator('td[data-k="topic"]').allTextContents(), ['polled']);
      assert.match(await page.locator('#status').textContent() ?? '', /\(polling\)/);
    } finally {
      await page.close();
      await a.close();
    }
  });
});
