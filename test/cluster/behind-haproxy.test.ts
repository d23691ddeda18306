/**
 * Behind a real HAProxy (issue 11, item 14), running examples/cluster/haproxy.cfg as written
 * (send-proxy-v2, /health/ready checks) on free ports in front of an xbar node whose web endpoint
 * has `proxy_protocol: true`. Clients come from many loopback addresses (127.0.0.0/8 is all
 * loopback on Linux), as clients of a real deployment come from many hosts:
 *
 * - one client brute-forcing wrong tickets gets blocked, while the others still log in;
 * - 5,000 sessions from 5,000 addresses reconnecting at once after the node restarts all get back.
 *
 * Each runs once more through the same HAProxy without send-proxy-v2 to an endpoint without the
 * PROXY protocol — the setup before this item — where every client has HAProxy's address, so the
 * brute force locks everyone out and the per-address connection limit refuses the storm.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import WebSocket from 'ws';
import { parseConfig } from '../../src/config/load.js';
import { XbarNode } from '../../src/node.js';
import { connectAutobahn } from '../helpers/clients.js';
import { type Haproxy, startHaproxyFromFile } from '../helpers/haproxy.js';
import { freePort } from '../helpers/ports.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/cluster/haproxy.cfg', import.meta.url));
/** Sessions of the reconnect storm (XBAR_STORM to try others). */
const STORM = Number(process.env.XBAR_STORM ?? 5000);
const TICKETS = { alice: { ticket: 'alice-secret', role: 'user' } };

/** A node with ticket auth at /ws and anonymous at /open, behind the PROXY protocol or not. */
async function startNode(port: number, proxyProtocol: boolean): Promise<XbarNode> {
  const config = parseConfig({
    version: 2,
    workers: [{
      type: 'router',
      realms: [{ name: 'realm1', roles: ['user', 'anonymous'].map((name) => ({ name, permissions: [{ uri: '', match: 'prefix', allow: { call: true, subscribe: true } }] })) }],
      transports: [{
        type: 'web',
        endpoint: { type: 'tcp', interface: '127.0.0.1', port, backlog: 8192, ...(proxyProtocol ? { proxy_protocol: true } : {}) },
        paths: {
          ws: { type: 'websocket', auth: { ticket: { type: 'static', principals: TICKETS } } },
          open: { type: 'websocket', auth: { anonymous: { type: 'static', role: 'anonymous' } } },
          health: { type: 'health' },
        },
      }],
    }],
  }, 'behind-haproxy.json');
  const node = new XbarNode(config, { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await node.start();
  return node;
}

/** Logs in as alice from `from` with `ticket`: 'welcome' or the reason of the refusal. */
async function login(url: string, from: string, ticket: string): Promise<string> {
  try {
    const c = await connectAutobahn(url, {
      transports: [{ type: 'websocket', url, agent: new http.Agent({ localAddress: from }) }],
      authmethods: ['ticket'], authid: 'alice', onchallenge: () => ticket,
    } as Parameters<typeof connectAutobahn>[1]);
    await c.close();
    return 'welcome';
  } catch (e) {
    const details = (e as { details?: { reason?: string; message?: string } }).details;
    return `${details?.reason ?? 'closed'}: ${details?.message ?? ''}`;
  }
}

/** The i-th client address: 127.1.0.1, 127.1.0.2, … (never 127.0.0.1, HAProxy's own). */
const address = (i: number) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** An anonymous raw WAMP session from `from`; resolves once WELCOMEd, with a promise of its end. */
function join(url: string, from: string): Promise<{ ws: WebSocket; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['wamp.2.json'], { localAddress: from, perMessageDeflate: false });
    const ended = new Promise<void>((r) => ws.once('close', () => r()));
    ws.once('open', () => ws.send('[1,"realm1",{"roles":{"subscriber":{}}}]'));
    ws.once('message', (d: Buffer) => (d[1] === 0x32 ? resolve({ ws, ended }) : reject(new Error(d.toString()))));
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('closed before WELCOME')));
  });
}

/**
 * Joins every address at once, each retrying after a failed attempt as WAMP clients do (Autobahn
 * retries with a growing delay): how many got a WELCOME within `ms`, how many attempts failed,
 * and the time until the last one joined.
 */
async function storm(url: string, n: number, ms = 60_000): Promise<{ joined: { ws: WebSocket; ended: Promise<void> }[]; missing: number; retries: number; ms: number }> {
  const started = performance.now();
  const deadline = Date.now() + ms;
  let retries = 0;
  const one = async (from: string) => {
    for (let delay = 100; ; delay = Math.min(delay * 1.5, 2000)) {
      try {
        return await join(url, from);
      } catch (e) {
        if (Date.now() > deadline) throw e;
        retries++;
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => one(address(i))));
  const joined = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  return { joined, missing: n - joined.length, retries, ms: Math.round(performance.now() - started) };
}

/** Until HAProxy forwards to a live node again (its health check marks the node up). */
async function untilServed(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const s = await join(url, '127.0.0.9');
      s.ws.close();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} never served`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('behind HAProxy with send-proxy-v2 (examples/cluster/haproxy.cfg)', { timeout: 180_000 }, () => {
  let port: number;
  let node: XbarNode;
  let haproxy: Haproxy;
  let base: string;

  before(async () => {
    port = await freePort();
    node = await startNode(port, true);
    haproxy = await startHaproxyFromFile(EXAMPLE, [{ name: 'x1', port }]);
    base = `ws://127.0.0.1:${haproxy.port}`;
    await untilServed(`${base}/open`);
  });
  after(async () => {
    await haproxy?.stop();
    await node?.stop();
  });

  it('blocks the client that brute-forces wrong tickets, and only that client', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 25; i++) answers.push(await login(`${base}/ws`, '127.0.0.66', `wrong-${i}`));
    assert.deepEqual(answers.slice(0, 20), Array<string>(20).fill('wamp.error.authentication_failed: authentication failed'));
    const BLOCKED = /^wamp\.error\.authentication_failed: too many failed authentications from this address/;
    assert.ok(answers.slice(20).every((a) => BLOCKED.test(a)), answers.slice(20).join('\n'));
    assert.match(await login(`${base}/ws`, '127.0.0.66', 'alice-secret'), BLOCKED, 'even the right ticket: the address is blocked');
    for (const from of ['127.0.0.67', '127.0.0.68', '127.0.0.69', '127.2.0.1', '127.2.0.2']) {
      assert.equal(await login(`${base}/ws`, from, 'alice-secret'), 'welcome', from);
    }
  });

  it(`brings ${STORM.toLocaleString('en')} sessions from ${STORM.toLocaleString('en')} addresses back at once after the node restarts`, async () => {
    const first = await storm(`${base}/open`, STORM);
    assert.equal(first.missing, 0, 'all join');
    // The node goes away (its sessions are closed) and comes back on the same port.
    await node.stop();
    await Promise.all(first.joined.map((s) => s.ended));
    node = await startNode(port, true);
    await untilServed(`${base}/open`);
    const again = await storm(`${base}/open`, STORM);
    console.log(`# ${STORM} sessions through HAProxy: first join ${first.ms} ms (${first.retries} retries), reconnect storm ${again.ms} ms (${again.retries} retries)`);
    assert.equal(again.missing, 0, `${again.missing} of ${STORM} did not get back`);
    assert.equal(node.refusals.of('connections'), 0, 'no client was refused by the per-address connection limit');
    assert.equal(again.joined.length, STORM, 'every client got a WELCOME');
    for (const s of again.joined) s.ws.close();
    await Promise.all(again.joined.map((s) => s.ended));
  });
});

describe('behind HAProxy without the PROXY protocol (the setup before)', { timeout: 120_000 }, () => {
  let node: XbarNode;
  let haproxy: Haproxy;
  let base: string;

  before(async () => {
    const port = await freePort();
    node = await startNode(port, false);
    haproxy = await startHaproxyFromFile(EXAMPLE, [{ name: 'x1', port }], (cfg) => cfg.replace(/^(\s*default-server.*) send-proxy-v2/m, '$1'));
    base = `ws://127.0.0.1:${haproxy.port}`;
    await untilServed(`${base}/open`);
  });
  after(async () => {
    await haproxy?.stop();
    await node?.stop();
  });

  it('every client has HAProxy\'s address: one brute-forcing client locks out everyone', async () => {
    for (let i = 0; i < 20; i++) await login(`${base}/ws`, '127.0.0.66', `wrong-${i}`);
    assert.match(await login(`${base}/ws`, '127.0.0.67', 'alice-secret'), /^wamp\.error\.authentication_failed: too many failed authentications from this address/);
  });

  it('and the per-address connection limit refuses connections of a storm of 2,000 from 2,000 hosts', async () => {
    const r = await storm(`${base}/open`, 2000, 1000);
    assert.ok(node.refusals.of('connections') > 0, 'burst 1,000 then 100/s for one address');
    for (const s of r.joined) s.ws.close();
  });
});
