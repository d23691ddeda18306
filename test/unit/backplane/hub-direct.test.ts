/**
 * Calls between the workers of one node go worker to worker (backplane/hub/peer-links.ts), not
 * through the hub: a real hub and two HubBackplanes, the caller's link to the hub running through
 * a proxy that can stall it. With the caller's hub link stalled, calls still go and come back; a
 * callee's worker that goes away ends the calls in flight to it (canceled) though the caller hears
 * nothing from the hub; a callee's worker whose direct socket cannot be reached gets the call
 * undelivered, so the router can try another callee.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { ReplySink } from '../../../src/backplane/backplane.js';
import { BackplaneHub } from '../../../src/backplane/hub/hub.js';
import { HubBackplane } from '../../../src/backplane/hub/hub-backplane.js';
import type { Content } from '../../../src/wamp/messages.js';
import { Recorder } from '../../conformance/backplane-kinds.js';
import { eventually } from '../../helpers/eventually.js';

const log = pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' });
const REALM = 'realm1';

/** A Unix-socket proxy to the hub whose traffic, both ways, can be held back. */
class StallingProxy {
  readonly path: string;
  private readonly server: Server;
  private readonly pairs: [Socket, Socket][] = [];

  constructor(dir: string, to: string) {
    this.path = path.join(dir, 'proxy.sock');
    this.server = createServer((client) => {
      const upstream = connect(to);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      this.pairs.push([client, upstream]);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  stall(): void {
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
    }
  }

  close(): void {
    for (const [a, b] of this.pairs) a.destroy(), b.destroy();
    this.server.close();
  }
}

function sink(): ReplySink & { got: unknown[][] } {
  const got: unknown[][] = [];
  return {
    got,
    progress: (c: Content) => void got.push(['progress', ...(c.args ?? [])]),
    result: (c: Content) => void got.push(['result', ...(c.args ?? [])]),
    error: (uri: string, c: Content) => void got.push(['error', uri, ...(c.args ?? [])]),
    undelivered: (why) => void got.push(['undelivered', why]),
  };
}

const inv = (n: number) => ({ realm: REALM, procedure: 'com.direct', regId: 1, callee: 7, details: {}, args: [n], kwargs: undefined });

describe('in-node backplane: calls worker to worker', () => {
  let dir: string;
  let hub: BackplaneHub;
  const stops: (() => Promise<void> | void)[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'xbar-hub-direct-'));
    hub = new BackplaneHub(path.join(dir, 'hub.sock'), log);
    await hub.start();
  });

  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A caller whose hub link runs through a proxy, and a callee that answers `n` with `n + 1`. */
  async function pair(name: string): Promise<{ caller: HubBackplane; callee: HubBackplane; heard: Recorder; proxy: StallingProxy }> {
    const proxy = new StallingProxy(mkdtempSync(path.join(dir, `${name}-`)), hub.path);
    await proxy.listen();
    const callee = new HubBackplane({ path: hub.path, name: `${name}-callee` }, log);
    const heard = new Recorder();
    heard.invoked = (i, port) => port.result({ args: [(i.args![0] as number) + 1], kwargs: undefined });
    await callee.start(heard);
    // The caller's direct socket sits beside the hub path it was given (the proxy's).
    const caller = new HubBackplane({ path: proxy.path, name: `${name}-caller` }, log);
    await caller.start(new Recorder());
    stops.push(() => caller.stop(), () => callee.stop(), () => proxy.close());
    await eventually(() => caller.members().has(callee.nodeId), 'the caller knows the callee');
    return { caller, callee, heard, proxy };
  }

  it('answers calls while the caller\'s link to the hub is stalled', async () => {
    const { caller, callee, proxy } = await pair('stalled');
    const first = sink();
    caller.invoke(callee.nodeId, inv(1), first);
    await eventually(() => first.got.length === 1, 'the first answer');
    proxy.stall();
    const answers = [2, 3, 4].map((n) => {
      const s = sink();
      caller.invoke(callee.nodeId, inv(n), s);
      return s;
    });
    await eventually(() => answers.every((s) => s.got.length === 1), 'every answer with the hub link stalled', 2000);
    assert.deepEqual([first, ...answers].map((s) => s.got), [[['result', 2]], [['result', 3]], [['result', 4]], [['result', 5]]]);
  });

  it('ends a call in flight with canceled when the callee\'s worker goes, though the hub could not say so', async () => {
    const { caller, callee, heard, proxy } = await pair('gone');
    heard.invoked = () => undefined; // holds the call
    const warm = sink();
    caller.invoke(callee.nodeId, inv(0), warm);
    await eventually(() => heard.invocations.length === 1, 'the first invocation reached the callee');
    proxy.stall();
    const s = sink();
    caller.invoke(callee.nodeId, inv(1), s);
    await eventually(() => heard.invocations.length === 2, 'the invocation reached the callee');
    await callee.stop();
    await eventually(() => s.got.length === 1 && warm.got.length === 1, 'both calls answered');
    assert.deepEqual(s.got, [['error', 'wamp.error.canceled', 'callee node lost']]);
    assert.deepEqual(warm.got, [['error', 'wamp.error.canceled', 'callee node lost']]);
  });
});
