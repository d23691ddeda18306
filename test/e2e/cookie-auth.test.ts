/**
 * crossbar-examples' authentication/cookie in headless Chromium: the example's config (WAMP-CRA
 * plus cookie auth, a file cookie store with purge_on_startup, its Python backend component) and
 * its own page, started from a copy of the example. The test, not the config, swaps port 8080 for a
 * free one (in the page too, which names ws://localhost:8080/ws), binds loopback, and — the
 * example's `shared` archive is downloaded from GitHub at start — puts a ZIP of Autobahn|JS's browser
 * build (node_modules/autobahn-browser) where the archive is expected, with its SHA-256 in `hashes`.
 *
 * The first load logs in by WAMP-CRA (a CHALLENGE, provider "static") and calls add2; a reload
 * joins with the cookie alone (no CHALLENGE: method wampcra, provider "cookie", the README's
 * screenshots); `session.leave("wamp.close.logout")` deletes the cookie, and the next load has to
 * answer a CHALLENGE again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfigFile } from '../../src/config/load.js';
import { XbarNode } from '../../src/node.js';
import { launchChromium } from '../helpers/browser.js';
import { crossbarExample } from '../helpers/crossbar-examples.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/ports.js';

const AUTOBAHN_BROWSER = createRequire(import.meta.url).resolve('autobahn-browser/autobahn.min.js');
const EXAMPLE_HASH = 'f63fb912ee13ba8ccd519be5d0a99e70b18c04ef6827c78b23a73cf328e733c4';

/** The example's archive as GitHub serves it, built from the npm package: autobahn-js-browser-20.9.2/autobahn/autobahn.min.js. */
function buildArchive(file: string): string {
  const staging = mkdtempSync(join(tmpdir(), 'xbar-zip-'));
  try {
    mkdirSync(join(staging, 'autobahn-js-browser-20.9.2', 'autobahn'), { recursive: true });
    cpSync(AUTOBAHN_BROWSER, join(staging, 'autobahn-js-browser-20.9.2', 'autobahn', 'autobahn.min.js'));
    execFileSync('zip', ['-q', '-r', file, 'autobahn-js-browser-20.9.2'], { cwd: staging });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

describe('authentication/cookie: WAMP-CRA once, then the cookie (Autobahn|JS in headless Chromium)', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'xbar-cookie-example-'));
  const dir = join(root, 'authentication', 'cookie');
  let node: XbarNode;
  let port: number;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    cpSync(crossbarExample('authentication/cookie'), dir, { recursive: true });
    port = await freePort();
    const file = join(dir, '.crossbar', 'config.json');
    const hash = buildArchive(join(dir, '.crossbar', 'autobahn-v20.9.2.zip'));
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('8080', String(port)).replace(EXAMPLE_HASH, hash));
    const page = join(dir, 'web', 'index.html');
    writeFileSync(page, readFileSync(page, 'utf8').replace('localhost:8080', `localhost:${port}`));
    // The example's Makefile: MYSECRET="secret123" crossbar start.
    process.env.MYSECRET = 'secret123';
    const config = await loadConfigFile(file);
    const loopback = {
      ...config,
      transports: config.transports.map((t) => (t.endpoint.type === 'tcp' ? { ...t, endpoint: { ...t.endpoint, interface: '127.0.0.1' } } : t)),
    };
    node = new XbarNode(loopback, {
      logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }),
      workerPolicy: { initialMs: 50, maxMs: 400, stableMs: 60_000, maxRestarts: 3, stopGraceMs: 1500 },
    });
    await node.start();
    browser = await launchChromium();
    context = await browser.newContext();
  });
  after(async () => {
    await browser?.close();
    await node?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Loads the page (or reloads it) and returns its console lines up to the result of its add2 call. */
  async function load(page: Page, reload: boolean): Promise<string[]> {
    const lines: string[] = [];
    const onConsole = (m: { text(): string }) => void lines.push(m.text());
    page.on('console', onConsole);
    try {
      const response = reload ? await page.reload() : await page.goto(`http://localhost:${port}/`);
      assert.equal(response?.status(), 200);
      // The backend component registers add2 shortly after start: the page calls once per load.
      await eventually(() => lines.find((l) => l.startsWith('call result') || l.startsWith('call error')), 'the page\'s add2 call', 15_000);
      return lines;
    } finally {
      page.off('console', onConsole);
    }
  }

  it('logs in by WAMP-CRA, rejoins by cookie on reload with no challenge, and after wamp.close.logout must log in again', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // The backend may not have registered add2 yet when the first load calls it.
    const login = await eventually(async () => {
      const lines = await load(page, false);
      return lines.includes('call result 5') ? lines : undefined;
    }, 'add2 registered and called', 30_000);
    assert.ok(login.some((l) => l.startsWith('onchallenge wampcra')), login.join('\n'));
    assert.ok(login.includes("authenticated using method 'wampcra' and provider 'static'"), login.join('\n'));
    const cookie = (await context.cookies()).find((c) => c.name === 'cbtid');
    assert.ok(cookie, 'the upgrade set the cbtid cookie');
    assert.match(cookie.value, /^[A-Za-z0-9+/]{24}$/);
    assert.equal(cookie.httpOnly, false, 'HttpOnly only with http_strict, as Crossbar.io');

    const first = await load(page, true);
    assert.ok(first.includes("authenticated using method 'wampcra' and provider 'cookie'"), first.join('\n'));
    assert.ok(first.includes("authenticated with authid 'client1' and authrole 'frontend'"), first.join('\n'));
    assert.ok(!first.some((l) => l.startsWith('onchallenge')), `no CHALLENGE on the cookie login: ${first.join('\n')}`);
    assert.ok(first.includes('call result 5'));

    // The page keeps its session in a global; logging out is its commented-out line.
    await page.evaluate(() => (globalThis as unknown as { session: { leave(r: string, m: string): void } }).session.leave('wamp.close.logout', 'bye'));
    const records = () => readFileSync(join(dir, '.crossbar', 'cookies.dat'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cbtid: string; status: string });
    await eventually(() => records().find((r) => r.cbtid === cookie.value && r.status === 'deleted'), 'the cookie deleted in cookies.dat');

    const afterLogout = await load(page, true);
    assert.ok(afterLogout.some((l) => l.startsWith('onchallenge wampcra')), afterLogout.join('\n'));
    assert.ok(afterLogout.includes("authenticated using method 'wampcra' and provider 'static'"), afterLogout.join('\n'));
    const renewed = (await context.cookies()).find((c) => c.name === 'cbtid');
    assert.notEqual(renewed?.value, cookie.value, 'a new cookie replaced the deleted one');
    assert.deepEqual(errors, []);
  });
});
