/**
 * crossbar-examples' pubsub/retained and pubsub/testament started from copies of the examples (the
 * test swaps port 8080 for a free one and binds loopback): a universal transport whose `ws` entry
 * tracks cookies in a file store that ships with a Crossbar.io cookies.dat of 2017 (expired, so it
 * is purged when the file is read). Each upgrade gets a cookie, the anonymous session's authid is
 * that cookie, and the examples do what their pages do: a retained event reaches a later
 * subscriber (get_retained), a testament is published when its session goes away.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { loadConfigFile } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { Code, RawWsClient } from '../../helpers/raw-wamp.js';

interface Example {
  readonly node: XbarNode;
  readonly url: string;
  readonly cookies: string;
  stop(): Promise<void>;
}

async function startExample(rel: string): Promise<Example> {
  const root = mkdtempSync(join(tmpdir(), 'xbar-example-'));
  const dir = join(root, rel);
  cpSync(crossbarExample(rel), dir, { recursive: true });
  mkdirSync(join(root, '_shared-web-resources'));
  const port = await freePort();
  const file = join(dir, '.crossbar', 'config.json');
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('8080', String(port)));
  const config = await loadConfigFile(file);
  const node = new XbarNode({
    ...config,
    transports: config.transports.map((t) => (t.endpoint.type === 'tcp' ? { ...t, endpoint: { ...t.endpoint, interface: '127.0.0.1' } } : t)),
  }, { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await node.start();
  return {
    node, url: `ws://127.0.0.1:${port}/ws`, cookies: join(dir, '.crossbar', 'cookies.dat'),
    stop: async () => {
      await node.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A cookie is set on the upgrade and is the anonymous session's authid; the example's expired 2017 cookie was purged. */
async function checkCookie(e: Example): Promise<void> {
  const raw = await RawWsClient.open(e.url);
  try {
    const m = /^cbtid=([A-Za-z0-9+/]{24});max-age=604800$/.exec(raw.setCookies[0] ?? '');
    assert.ok(m, JSON.stringify(raw.setCookies));
    raw.send([Code.HELLO, 'realm1', { roles: { subscriber: {} } }]);
    const w = await raw.next();
    assert.equal(w[0], Code.WELCOME);
    assert.equal((w[2] as Record<string, unknown>).authid, m[1]);
    const text = readFileSync(e.cookies, 'utf8');
    assert.ok(!text.includes('/annWB29tNATWoF08QKFtD9B'), text);
    assert.ok(text.includes(m[1]!));
  } finally {
    raw.destroy();
  }
}

describe('crossbar-examples with cookie tracking: pubsub/retained and pubsub/testament', () => {
  const examples: Example[] = [];
  const clients: AutobahnClient[] = [];
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const e of examples) await e.stop();
  });

  it('pubsub/retained: starts unchanged; a retained event reaches a later subscriber', async () => {
    const e = await startExample('pubsub/retained');
    examples.push(e);
    await checkCookie(e);
    const publisher = await connectAutobahn(e.url);
    clients.push(publisher);
    await publisher.session.publish('com.example.topic1', [1], {}, { retain: true, acknowledge: true });
    const subscriber = await connectAutobahn(e.url);
    clients.push(subscriber);
    const got: { arg: unknown; retained: unknown }[] = [];
    await subscriber.session.subscribe('com.example.topic1', (args, _kw, details) => void got.push({ arg: args?.[0], retained: (details as { retained?: unknown }).retained }), { match: 'exact', get_retained: true });
    await eventually(() => got[0], 'the retained event');
    assert.deepEqual(got[0], { arg: 1, retained: true });
  });

  it('pubsub/testament: starts unchanged; a testament is published when its session goes away', async () => {
    const e = await startExample('pubsub/testament');
    examples.push(e);
    await checkCookie(e);
    const watcher = await connectAutobahn(e.url);
    clients.push(watcher);
    const got: unknown[] = [];
    await watcher.session.subscribe('com.example.testament', (args) => void got.push(args?.[0]));
    const leaving = await connectAutobahn(e.url);
    await leaving.session.call('wamp.session.add_testament', ['com.example.testament', ['gone'], {}]);
    await leaving.close();
    await eventually(() => got[0], 'the testament');
    assert.deepEqual(got, ['gone']);
  });
});
