/**
 * The operator console of `xbar start --workers 2` (a real child process) in headless Chromium:
 * with sessions on both workers, the page — whichever worker serves its requests — shows the
 * node's sessions and connections in its tiles, says both workers are up, and lists the sessions
 * of both workers.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startCli } from '../helpers/cli.js';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/ports.js';

interface LogLine { pid: number; msg: string; session?: number }

describe('the console of xbar start --workers 2 in headless Chromium', { timeout: 60_000 }, () => {
  let child: ChildProcess;
  let output: () => string;
  let port: number;
  let browser: Browser;
  const clients: AutobahnClient[] = [];
  const lines = (): LogLine[] => output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  const workers = () => lines().filter((l) => l.msg === 'xbar node started').map((l) => l.pid);

  before(async () => {
    port = await freePort();
    ({ child, output } = await startCli(['--workers', '2', '--port', String(port), '--log-format', 'json']));
    await eventually(() => workers().length === 2, 'both workers started', 20_000);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await Promise.all(clients.map((c) => c.close()));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });

  it('shows the node\'s totals and both workers\' sessions', async () => {
    const on = new Set<number>();
    for (let i = 0; i < 10 && (on.size < 2 || clients.length < 3); i++) {
      const c = await connectAutobahn(`ws://127.0.0.1:${port}/ws`);
      clients.push(c);
      on.add(await eventually(() => lines().find((l) => l.msg === 'session joined' && l.session === c.session.id)?.pid, 'the session\'s worker'));
    }
    assert.equal(on.size, 2, 'sessions on both workers');
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`http://127.0.0.1:${port}/stats`);
      await page.waitForFunction(() => Number(document.body.getAttribute('data-reports')) >= 1, undefined, { timeout: 15_000 });
      const tile = (k: string) => page.locator(`[data-tile="${k}"] .v`).textContent();
      assert.equal(await tile('sessions'), String(clients.length));
      assert.equal(await tile('connections'), String(clients.length));
      assert.match(await page.locator('#status').textContent() ?? '', new RegExp(`^${clients.length} sessions, ${clients.length} connections; .*; workers 2/2 up; updated `));
      for (const c of clients) await page.waitForSelector(`#sessions tr[data-key$=" ${c.session.id}"]`, { timeout: 10_000 });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
