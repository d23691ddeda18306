/**
 * The wire shape of forwarded events and calls, read by Debian's Autobahn|Python — the library
 * Crossbar.io's rlink code is written against (`details.forward_for`, `details.publisher`,
 * `details.caller`, parsed by autobahn.wamp.message.Event/Invocation, which refuse an ill-formed
 * forward_for): a Python subscriber and a Python callee on one router, an Autobahn|JS publisher
 * and caller on the other, linked by an rlink.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { XbarNode } from '../../../src/node.js';
import type { AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { client, link, linksUp, registered, startRouter, subscribers } from './support.js';

const PEER = String.raw`
import asyncio, json, sys
from autobahn.asyncio.wamp import ApplicationSession, ApplicationRunner
from autobahn.wamp.types import SubscribeOptions, RegisterOptions
from autobahn.wamp.serializer import CBORSerializer
cfg = json.loads(sys.argv[1])

def out(o):
    sys.stdout.write(json.dumps(o) + '\n')
    sys.stdout.flush()

class Peer(ApplicationSession):
    async def onJoin(self, details):
        def on_event(value, details=None):
            out({'event': value, 'publisher': details.publisher, 'forward_for': details.forward_for})
        await self.subscribe(on_event, 'wire.news', options=SubscribeOptions(details_arg='details'))
        def echo(value, details=None):
            return {'value': value, 'caller': details.caller, 'caller_authid': details.caller_authid, 'forward_for': details.forward_for}
        await self.register(echo, 'wire.echo', options=RegisterOptions(details_arg='details'))
        out({'ready': True})

    def onLeave(self, details):
        out({'left': details.reason})
        asyncio.get_event_loop().stop()

ApplicationRunner(cfg['url'], 'realm1', serializers=[CBORSerializer()]).run(Peer, log_level='critical')
`;

interface Line { ready?: boolean; event?: unknown; publisher?: number; forward_for?: { session: number; authid: string; authrole: string }[]; left?: string }

describe('forwarded events and calls as Autobahn|Python reads them', () => {
  let near: XbarNode;
  let far: XbarNode;
  let farPort: number;
  let python: ChildProcess;
  const lines: Line[] = [];
  const clients: AutobahnClient[] = [];

  before(async () => {
    farPort = await freePort();
    far = await startRouter({ ws: farPort, raw: await freePort() });
    const nearPort = await freePort();
    near = await startRouter({ ws: nearPort, raw: await freePort() }, [link({ id: 'near_far', port: farPort, serializer: 'msgpack' })]);
    await linksUp(near);
    python = spawn('/usr/bin/python3', ['-c', PEER, JSON.stringify({ url: `ws://127.0.0.1:${nearPort}/ws` })], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buffered = '';
    python.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        lines.push(JSON.parse(buffered.slice(0, nl)) as Line);
        buffered = buffered.slice(nl + 1);
      }
    });
    await eventually(() => lines.some((l) => l.ready), 'the Python peer', 15_000, 20);
  });

  after(async () => {
    python.kill();
    for (const c of clients) await c.close();
    await near.stop();
    await far.stop();
  });

  it('an event from the other router has publisher = forward_for[0] and the link as last hop', async () => {
    const pub = await client(farPort);
    clients.push(pub);
    await subscribers(pub.session, 'wire.news', 1);
    await pub.session.publish('wire.news', ['hi'], {}, { acknowledge: true, disclose_me: true });
    const ev = await eventually(() => lines.find((l) => l.event !== undefined), 'the event in Python');
    assert.equal(ev.event, 'hi');
    assert.equal(ev.publisher, pub.session.id);
    assert.equal(ev.forward_for!.length, 2);
    assert.deepEqual(ev.forward_for![0], { session: pub.session.id, authid: pub.details.authid, authrole: pub.details.authrole });
    assert.equal(ev.forward_for![1]!.authid, 'near_far');
    assert.ok(!lines.some((l) => l.left !== undefined), 'the Python session is still up');
  });

  // Autobahn|Python 22 parses INVOCATION.Details.forward_for but does not hand it to CallDetails;
  // the raw INVOCATION is checked in forward-for.test.ts.
  it('a call from the other router has caller = forward_for[0]', async () => {
    const caller = await client(farPort);
    clients.push(caller);
    await registered(caller.session, 'wire.echo');
    const r = (await caller.session.call('wire.echo', ['ping'], {}, { disclose_me: true })) as Record<string, unknown>;
    assert.equal(r.value, 'ping');
    assert.equal(r.caller, caller.session.id);
    assert.equal(r.caller_authid, caller.details.authid);
  });
});
