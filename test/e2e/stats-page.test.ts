/**
 * The /stats page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
 * it shows the node's sessions and rates, and they change while a test publishes and sessions
 * come and go. Screenshot in test-artifacts/. The node samples every second here (the default
 * and the page's refresh are 5 s) to keep the test short.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { Clients, type MetaNode, startMetaNode } from '../integration/meta/support.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

describe('the /stats page in headless Chromium', { timeout: 30_000 }, () => {
  let t: MetaNode;
  let browser: Browser;
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    t = await startMetaNode({ stats: { interval: 1000 } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows sessions and rates that change while a test publishes', async () => {
    const clients = new Clients(t.wsUrl);
    const pub = await clients.connect();
    const subs = await Promise.all([1, 2, 3].map(() => clients.connect()));
    for (const s of subs) await s.subscribe('com.lab.pendulum', () => undefined);
    const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    let ticker: NodeJS.Timeout | undefined;
    try {
      await page.goto(`${t.http}/stats`);
      const realmCell = (k: string) => page.locator(`#realms tr[data-key="realm1"] td[data-k="${k}"]`);
      const reports = () => page.locator('body').getAttribute('data-reports').then(Number);
      const nextReport = async () => {
        const n = await reports();
        await page.waitForFunction((x) => Number(document.body.getAttribute('data-reports')) > x, n, { timeout: 5000 });
      };
      await page.waitForSelector('#realms tr[data-key="realm1"]', { timeout: 5000 });
      assert.equal(await realmCell('sessions').textContent(), '4');
      assert.match(await page.locator('#status').textContent() ?? '', /4 sessions.*\(live\)/);
      // The process's figures: CPU once an interval has passed, memory at once.
      await page.waitForFunction(() => /^\d[\d,.]* %$/.test(document.querySelector('[data-tile="cpu"] .v')?.textContent ?? '')
        && /^[\d.,]+ ms$/.test(document.querySelector('[data-tile="lag"] .v')?.textContent ?? ''), undefined, { timeout: 5000 });
      assert.match(await page.locator('[data-tile="rss"] .v').textContent() ?? '', /^[\d.]+ MiB$/);
      assert.match(await page.locator('[data-tile="heap"] .v').textContent() ?? '', /^[\d.]+ MiB$/);

      // 50 publications per second to 3 subscribers.
      let n = 0;
      ticker = setInterval(() => pub.publish('com.lab.pendulum', [n++, Math.sin(n / 10)]), 20);
      await page.waitForFunction(() => {
        const cell = document.querySelector('#realms tr[data-key="realm1"] td[data-k="events"]');
        return cell !== null && Number((cell.textContent ?? '0').replace(/,/g, '')) >= 60;
      }, undefined, { timeout: 8000 });
      const events1 = Number((await realmCell('events').textContent())!.replace(/,/g, ''));
      assert.ok(events1 >= 60 && events1 <= 300, `about 150 events/s shown, got ${events1}`);
      await page.waitForSelector('#topics tr[data-key="realm1 com.lab.pendulum"]', { timeout: 5000 });
      const topicRate = Number(await page.locator('#topics tr[data-key="realm1 com.lab.pendulum"] td[data-k="events_per_s"]').textContent());
      assert.ok(topicRate > 0, 'the busiest topic is listed with its rate');

      // A session joins: the next report shows it.
      const late = await clients.connect();
      await page.waitForFunction(() => document.querySelector('#realms tr[data-key="realm1"] td[data-k="sessions"]')?.textContent === '5', undefined, { timeout: 5000 });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}stats-page.png`, fullPage: true });

      // Publishing stops: the rates fall back to zero.
      clearInterval(ticker);
      ticker = undefined;
      await page.waitForFunction(() => document.querySelector('#realms tr[data-key="realm1"] td[data-k="events"]')?.textContent === '0', undefined, { timeout: 6000 });
      await nextReport();
      await clients.leave(late);
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      clearInterval(ticker);
      await page.close();
      await clients.closeAll();
    }
  });
});
