/**
 * The operator console in headless Chromium, on a real 2-node cluster over a real nats-server:
 * the page opened on node 1 draws its charts with uPlot and they move while clients publish and
 * call (the plotted values and the canvas pixels differ between two reads), the cluster table
 * lists both nodes and their totals, and the sessions table lists real Autobahn|JS clients of
 * both nodes with their authids. A screenshot goes to test-artifacts/console.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import type { NodeConfig, TransportConfig } from '../../src/config/types.js';
import { XbarNode } from '../../src/node.js';
import { launchChromium } from '../helpers/browser.js';
import { clusterConfig } from '../helpers/cluster.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { testConfig } from '../helpers/node.js';
import { Clients, one } from '../integration/meta/support.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

function nodeConfig(nats: NatsServer[], cluster: string, name: string): NodeConfig {
  const base = testConfig();
  const [web, ...rest] = base.transports as [Extract<TransportConfig, { type: 'web' }>, ...TransportConfig[]];
  const paths = new Map(web.paths);
  paths.set('stats', { type: 'stats' });
  return {
    ...base, transports: [{ ...web, paths }, ...rest],
    stats: { enabled: true, interval: 250, topTopics: 10, maxTopics: 1000 },
    cluster: clusterConfig(nats, cluster, { node: name }),
  };
}

describe('the console in headless Chromium on a 2-node NATS cluster', { timeout: 60_000 }, () => {
  let nats: NatsServer[];
  const nodes: XbarNode[] = [];
  let browser: Browser;
  before(async () => {
    nats = await startNats(1);
    const cluster = `console${process.pid}`;
    for (const name of ['c1', 'c2']) {
      const n = new XbarNode(nodeConfig(nats, cluster, name), { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
      await n.start();
      nodes.push(n);
    }
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    if (nats) await stopNats(nats);
  });

  it('draws moving charts, shows every node with the totals, and lists the clients of both nodes', async () => {
    const [n1, n2] = nodes as [XbarNode, XbarNode];
    const [id1, id2] = [n1.backplane.nodeId, n2.backplane.nodeId];
    const on1 = new Clients(`ws://127.0.0.1:${n1.port('web')}/ws`);
    const on2 = new Clients(`ws://127.0.0.1:${n2.port('web')}/ws`);
    const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    let ticker: NodeJS.Timeout | undefined;
    try {
      const sensor = await on1.connect();
      const dashboard = await on2.connect();
      await dashboard.subscribe('lab.rig1.', () => undefined, { match: 'prefix' });
      await dashboard.register('lab.rig1.calibrate', () => new Promise((r) => setTimeout(() => r('done'), 5)));
      const sensorAuthid = (one(await sensor.call('wamp.session.get', [sensor.id])) as { authid: string }).authid;
      const dashboardAuthid = (one(await dashboard.call('wamp.session.get', [dashboard.id])) as { authid: string }).authid;
      let n = 0;
      ticker = setInterval(() => {
        sensor.publish('lab.rig1.temperature', [20 + Math.sin(n++ / 5)]);
        if (n % 4 === 0) sensor.call('lab.rig1.calibrate').catch(() => undefined);
      }, 20);

      await page.goto(`http://127.0.0.1:${n1.port('web')}/stats`);
      // Charts: six uPlot canvases, each with points.
      await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length === 6
        && [...document.querySelectorAll('[data-chart]')].every((c) => Number(c.getAttribute('data-points')) >= 3), undefined, { timeout: 10_000 });
      const read = () => page.evaluate(() => {
        const charts = (window as unknown as { xbarConsole: { charts: Record<string, { plot: { data: (number | null)[][] } }> } }).xbarConsole.charts;
        const m = charts.messages!.plot.data;
        return {
          lastTime: m[0]!.at(-1),
          publications: m[1]!.slice(-3),
          pixels: (document.querySelector('[data-chart="messages"] canvas') as HTMLCanvasElement).toDataURL(),
        };
      });
      const first = await read();
      await page.waitForFunction((t) => {
        const charts = (window as unknown as { xbarConsole: { charts: Record<string, { plot: { data: number[][] } }> } }).xbarConsole.charts;
        return charts.messages!.plot.data[0]!.at(-1)! > t!;
      }, first.lastTime, { timeout: 10_000 });
      const second = await read();
      assert.notDeepEqual([second.lastTime, second.publications], [first.lastTime, first.publications], 'the plotted values moved on');
      assert.notEqual(second.pixels, first.pixels, 'the chart was redrawn');
      await page.waitForFunction(() => {
        const charts = (window as unknown as { xbarConsole: { charts: Record<string, { plot: { data: (number | null)[][] } }> } }).xbarConsole.charts;
        return (charts.messages!.plot.data[1]!.at(-1) ?? 0) > 10 && (charts.latency!.plot.data[2]!.at(-1) ?? 0) > 0;
      }, undefined, { timeout: 10_000 });

      // The cluster table: both nodes and the totals row.
      await page.waitForSelector(`#cluster-view:not([hidden]) #cluster tr[data-key="${id1}"]`, { timeout: 10_000 });
      await page.waitForSelector(`#cluster tr[data-key="${id2}"]`, { timeout: 10_000 });
      const cell = (row: string, k: string) => page.locator(`#cluster tr[data-key="${row}"] td[data-k="${k}"]`).textContent();
      assert.equal(await cell('totals', 'node'), 'all 2 nodes');
      await page.waitForFunction(() => document.querySelector('#cluster tr[data-key="totals"] td[data-k="sessions"]')?.textContent === '2', undefined, { timeout: 10_000 });
      assert.equal(await cell(id1, 'sessions'), '1');
      assert.equal(await cell(id2, 'sessions'), '1');
      assert.equal(await cell(id1, 'backplane'), 'ready');

      // The node directory: both nodes with the addresses they listen on.
      await page.waitForSelector(`#directory tr[data-key="${id2}"]`, { timeout: 10_000 });
      const dir = (row: string, k: string) => page.locator(`#directory tr[data-key="${row}"] td[data-k="${k}"]`).textContent();
      assert.equal(await dir(id1, 'state'), 'ready');
      assert.match(await dir(id2, 'addresses') ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/ws rs:\/\/127\.0\.0\.1:\d+$/);

      // The sessions table: the clients of both nodes, with their authids.
      const sessionRow = (node: string, id: number) => `#sessions tr[data-key="${node} ${id}"]`;
      await page.waitForSelector(sessionRow(id1, sensor.id), { timeout: 10_000 });
      await page.waitForSelector(sessionRow(id2, dashboard.id), { timeout: 10_000 });
      assert.equal(await page.locator(`${sessionRow(id1, sensor.id)} td[data-k="authid"]`).textContent(), sensorAuthid);
      assert.equal(await page.locator(`${sessionRow(id2, dashboard.id)} td[data-k="authid"]`).textContent(), dashboardAuthid);
      assert.equal(await page.locator(`${sessionRow(id1, sensor.id)} td[data-k="transport"]`).textContent(), 'websocket');
      assert.match(await page.locator(`${sessionRow(id2, dashboard.id)} td[data-k="address"]`).textContent() ?? '', /^127\.0\.0\.1:\d+$/);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}console.png`, fullPage: true });
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      clearInterval(ticker);
      await page.close();
      await on1.closeAll();
      await on2.closeAll();
    }
  });
});
