/**
 * Three xbar routers in a triangle, each linked to the other two as Crossbar.io's rlinks/ha_setup
 * example links its nodes (forward_remote_events and forward_remote_invocations only): one
 * publication gives every subscriber on every router exactly one event, and a call is answered
 * once, by the one callee — nothing loops. Then the same triangle with one link per pair and
 * Crossbar.io's defaults (everything forwarded both ways).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { XbarNode } from '../../../src/node.js';
import type { RLinkConfig } from '../../../src/config/types.js';
import type { AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { client, link, linksUp, registered, startRouter, subscribers } from './support.js';

type Ports = { ws: number; raw: number };

async function triangle(linksOf: (i: number, ports: Ports[]) => RLinkConfig[]): Promise<{ nodes: XbarNode[]; ports: Ports[] }> {
  const ports: Ports[] = [];
  for (let i = 0; i < 3; i++) ports.push({ ws: await freePort(), raw: await freePort() });
  const nodes = await Promise.all([0, 1, 2].map((i) => startRouter(ports[i]!, linksOf(i, ports))));
  await Promise.all(nodes.map(linksUp));
  return { nodes, ports };
}

async function exercise(nodes: XbarNode[], ports: Ports[], clients: AutobahnClient[]): Promise<void> {
  const open = async (port: number): Promise<AutobahnClient> => {
    const c = await client(port);
    clients.push(c);
    return c;
  };
  // One subscriber on each router.
  const got: unknown[][] = [[], [], []];
  const subs = await Promise.all(ports.map((p) => open(p.ws)));
  for (const [i, s] of subs.entries()) await s.session.subscribe('mesh.news', (args) => void got[i]!.push(args?.[0]));
  // Every router has its own subscriber plus the mirrors of the links that forward to it.
  for (const s of subs) await subscribers(s.session, 'mesh.news', 2);
  const pub = await open(ports[0]!.ws);
  await pub.session.publish('mesh.news', ['first'], {}, { acknowledge: true });
  await eventually(() => got[1]!.includes('first') && got[2]!.includes('first'), 'the event on the other routers');
  // Sentinels from every router: a looped or duplicated 'first' would have arrived before them.
  for (const [i, p] of ports.entries()) {
    const c = await open(p.ws);
    await c.session.publish('mesh.news', [`end${i}`], {}, { acknowledge: true });
  }
  await eventually(() => got.every((g) => ['end0', 'end1', 'end2'].every((e) => g.includes(e))), 'the sentinels everywhere');
  await pub.session.publish('mesh.news', ['last'], {}, { acknowledge: true });
  await eventually(() => got.every((g) => g.includes('last')), 'the last event everywhere');
  // The publisher's router delivers locally; the others get one forwarded copy each.
  for (const g of got) {
    assert.equal(g.filter((x) => x === 'first').length, 1, `exactly one 'first' (got ${JSON.stringify(g)})`);
    for (const e of ['end0', 'end1', 'end2', 'last']) assert.equal(g.filter((x) => x === e).length, 1, `exactly one ${e}`);
  }
  assert.equal(got[0]!.length, 5);

  // A callee on router 0, callers on routers 1 and 2: each call answered once, by that callee.
  const callee = await open(ports[0]!.ws);
  let invocations = 0;
  await callee.session.register('mesh.echo', (args) => {
    invocations++;
    return args![0];
  });
  for (const i of [1, 2]) {
    const caller = await open(ports[i]!.ws);
    await registered(caller.session, 'mesh.echo');
    assert.equal(await caller.session.call('mesh.echo', [`from ${i}`]), `from ${i}`);
  }
  assert.equal(invocations, 2);
  // Calls in flight across the triangle all end: none goes round the links.
  const caller = await open(ports[2]!.ws);
  const results = await Promise.all(Array.from({ length: 20 }, (_, k) => caller.session.call('mesh.echo', [k])));
  assert.deepEqual(results, Array.from({ length: 20 }, (_, k) => k));
  assert.equal(invocations, 22);
  void nodes;
}

describe('three xbar routers in a triangle of rlinks', () => {
  const clients: AutobahnClient[] = [];
  let nodes: XbarNode[] = [];

  after(async () => {
    for (const c of clients) await c.close();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('each linked to the other two (forward_remote_* only, as in rlinks/ha_setup): one event per subscriber, one answer per call', async () => {
    const t = await triangle((i, ports) => [0, 1, 2].filter((j) => j !== i).map((j) => link({
      id: `rlink_${i + 1}_${j + 1}`, port: ports[j]!.raw, rawsocket: true, serializer: 'cbor',
      flags: { forwardLocalEvents: false, forwardLocalInvocations: false },
    })));
    nodes = t.nodes;
    await exercise(t.nodes, t.ports, clients);
  });

  it('one link per pair with everything forwarded both ways: one event per subscriber, one answer per call', async () => {
    for (const c of clients.splice(0)) await c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    const t = await triangle((i, ports) => [link({ id: `rlink_${i + 1}`, port: ports[(i + 1) % 3]!.ws })]);
    nodes = t.nodes;
    await exercise(t.nodes, t.ports, clients);
  });
});
