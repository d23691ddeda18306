/**
 * Router-to-router links between separate xbar routers over real sockets, with Autobahn|JS
 * clients on each side: events and calls both ways, a remote registration's call, the origin in
 * the details as Crossbar.io shows it (`forward_for`), reconnection after the remote restarts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import type { XbarNode } from '../../../src/node.js';
import type { AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { client, link, linksUp, registered, startRouter, subscribers } from './support.js';

describe('rlink between two xbar routers', () => {
  let central: XbarNode;
  let site: XbarNode;
  let centralPorts: { ws: number; raw: number };
  let sitePorts: { ws: number; raw: number };
  const clients: AutobahnClient[] = [];
  const open = async (port: number): Promise<AutobahnClient> => {
    const c = await client(port);
    clients.push(c);
    return c;
  };

  before(async () => {
    centralPorts = { ws: await freePort(), raw: await freePort() };
    sitePorts = { ws: await freePort(), raw: await freePort() };
    central = await startRouter(centralPorts);
    // The site router links to the central one (Crossbar.io's defaults: everything both ways).
    site = await startRouter(sitePorts, [link({ id: 'site_to_central', port: centralPorts.ws })]);
    await linksUp(site);
  });

  after(async () => {
    for (const c of clients) await c.close();
    await site.stop();
    await central.stop();
  });

  it('brings a remote event to a local subscriber with forward_for naming the publisher and the link', async () => {
    const sub = await open(sitePorts.ws);
    const pub = await open(centralPorts.ws);
    const got: { args: unknown[]; details: Record<string, unknown> }[] = [];
    await sub.session.subscribe('lab.c2s', (args, _kw, details) => void got.push({ args: args ?? [], details: details as unknown as Record<string, unknown> }));
    await subscribers(pub.session, 'lab.c2s', 1);
    await pub.session.publish('lab.c2s', [42], {}, { acknowledge: true, disclose_me: true });
    await eventually(() => got.length === 1, 'the forwarded event');
    assert.deepEqual(got[0]!.args, [42]);
    const d = got[0]!.details;
    // Crossbar.io's broker: the publisher is forward_for[0], and the link session is appended.
    assert.equal(d.publisher, pub.session.id);
    const ff = d.forward_for as { session: number; authid: string; authrole: string }[];
    assert.equal(ff.length, 2);
    assert.deepEqual(ff[0], { session: pub.session.id, authid: pub.details.authid, authrole: pub.details.authrole });
    assert.equal(ff[1]!.authid, 'site_to_central');
    assert.equal(ff[1]!.authrole, 'trusted');
  });

  it('brings a local event to a remote subscriber, once', async () => {
    const sub = await open(centralPorts.ws);
    const pub = await open(sitePorts.ws);
    const got: unknown[] = [];
    await sub.session.subscribe('lab.s2c', (args) => void got.push(args?.[0]));
    await subscribers(pub.session, 'lab.s2c', 1);
    for (let i = 1; i <= 3; i++) await pub.session.publish('lab.s2c', [i], {}, { acknowledge: true });
    await eventually(() => got.length >= 3, 'three events');
    // A sentinel after them: anything duplicated or looped would have arrived before it.
    await pub.session.publish('lab.s2c', ['end'], {}, { acknowledge: true });
    await eventually(() => got.includes('end'), 'the sentinel');
    assert.deepEqual(got, [1, 2, 3, 'end']);
  });

  it('answers a call from the site by the central router\'s callee, and the other way round', async () => {
    const centralCallee = await open(centralPorts.ws);
    const siteCallee = await open(sitePorts.ws);
    const seen: Record<string, unknown>[] = [];
    await centralCallee.session.register('central.add', (args, _kw, details) => {
      seen.push(details as unknown as Record<string, unknown>);
      return (args![0] as number) + (args![1] as number);
    });
    await siteCallee.session.register('site.greet', (args) => new autobahn.Result([`hello ${args![0]}`], { from: 'site' }));
    const siteCaller = await open(sitePorts.ws);
    const centralCaller = await open(centralPorts.ws);
    await registered(siteCaller.session, 'central.add');
    await registered(centralCaller.session, 'site.greet');
    assert.equal(await siteCaller.session.call('central.add', [2, 3], {}, { disclose_me: true }), 5);
    const r = (await centralCaller.session.call('site.greet', ['lab'])) as autobahn.Result;
    assert.deepEqual(r.args, ['hello lab']);
    assert.deepEqual(r.kwargs, { from: 'site' });
    assert.equal(seen.length, 1);
  });

  it('passes a remote callee\'s error back to the caller', async () => {
    const callee = await open(centralPorts.ws);
    await callee.session.register('central.fail', () => {
      throw new autobahn.Error('lab.error.broken', ['it broke'], { code: 7 });
    });
    const caller = await open(sitePorts.ws);
    await registered(caller.session, 'central.fail');
    await assert.rejects(caller.session.call('central.fail'), (e: { error: string; args: unknown[]; kwargs: unknown }) =>
      e.error === 'lab.error.broken' && e.args[0] === 'it broke' && (e.kwargs as { code: number }).code === 7);
  });

  it('takes a registration away on the other router when its callee leaves', async () => {
    const callee = await client(centralPorts.ws);
    await callee.session.register('central.temporary', () => 1);
    const caller = await open(sitePorts.ws);
    await registered(caller.session, 'central.temporary');
    await callee.close();
    await eventually(async () => (await caller.session.call('wamp.registration.lookup', ['central.temporary'])) === null, 'the mirror gone');
    await assert.rejects(caller.session.call('central.temporary'), (e: { error: string }) => e.error === 'wamp.error.no_such_procedure');
  });

  it('reconnects after the remote router restarts, and mirrors the subscriptions and registrations again', async () => {
    const sub = await open(sitePorts.ws);
    const got: unknown[] = [];
    await sub.session.subscribe('lab.after', (args) => void got.push(args?.[0]));
    const connects = site.rlinks[0]!.connects;
    // Close the clients on the central router before it goes.
    for (const c of clients.splice(0)) if (c !== sub) await c.close();
    clients.push(sub);
    await central.stop();
    central = await startRouter(centralPorts);
    await eventually(() => site.rlinks[0]!.connects > connects && site.rlinks[0]!.state === 'connected', 'the link back', 15_000, 20);
    const pub = await open(centralPorts.ws);
    await subscribers(pub.session, 'lab.after', 1);
    await pub.session.publish('lab.after', ['back'], {}, { acknowledge: true });
    await eventually(() => got.includes('back'), 'an event after the restart');
    const callee = await open(centralPorts.ws);
    await callee.session.register('central.again', () => 'again');
    await registered(sub.session, 'central.again');
    assert.equal(await sub.session.call('central.again'), 'again');
  });
});
