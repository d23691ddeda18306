/**
 * rlinks authenticate as Crossbar.io's do (worker/rlink.py RLinkRemoteSession): WAMP-cryptosign
 * with the node key in the node directory (`key.priv`, Crossbar.io's file format), the public key
 * in HELLO's authextra so the remote can identify the link without an authid. Between two xbar
 * routers: the remote's RawSocket transport admits only cryptosign, with the principals and keys
 * of crossbar-examples' rlinks/ha_setup (node1's config), and the linking node uses ha_setup's
 * node2 key file as Crossbar.io wrote it. A node without a key file creates one at start (which
 * the remote does not know): it is refused, retried with back-off, and each refusal is logged.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crossbarExample } from '../../helpers/crossbar-examples.js';
import { eventually } from '../../helpers/eventually.js';
import { parseKeyFile, readNodeKey } from '../../../src/rlinks/node-key.js';
import type { AutobahnClient } from '../../helpers/clients.js';
import { client, routerDoc, startFileNode, subscribers, type FileNode } from './support.js';

const HA = crossbarExample('rlinks/ha_setup');
type Doc = Record<string, unknown>;

const allowAll = (name: string): Doc => ({
  name,
  permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: true, publisher: true }, cache: true }],
});

/** ha_setup node1's RawSocket transport auth: cryptosign principals node1..node4 with their keys. */
function haCryptosignAuth(): Doc {
  const doc = JSON.parse(readFileSync(join(HA, 'node1/.crossbar/config.json'), 'utf8')) as { workers: { transports: Doc[] }[] };
  const raw = doc.workers[0]!.transports.find((t) => t.type === 'rawsocket')!;
  return raw.auth as Doc;
}

/** The remote: clients on WebSocket (anonymous), links on RawSocket (cryptosign only). */
function centralDoc(): Doc {
  return routerDoc([{ name: 'realm1', roles: [allowAll('anonymous'), allowAll('router2router')] }], [
    { type: 'rawsocket', endpoint: { type: 'tcp', port: 8080 }, serializers: ['cbor'], auth: haCryptosignAuth() },
    { type: 'web', endpoint: { type: 'tcp', port: 8081 }, paths: { ws: { type: 'websocket' } } },
  ]);
}

function siteDoc(centralRawPort: number): Doc {
  return routerDoc([{
    name: 'realm1', roles: [allowAll('anonymous')],
    rlinks: [{
      id: 'site_to_central', realm: 'realm1',
      transport: { type: 'rawsocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: centralRawPort }, serializer: 'cbor' },
      forward_local_events: true, forward_remote_events: false, forward_local_invocations: false, forward_remote_invocations: false,
    }],
  }], [{ type: 'web', endpoint: { type: 'tcp', port: 8082 }, paths: { ws: { type: 'websocket' } } }]);
}

describe('rlink authentication with the node key (cryptosign)', () => {
  let central: FileNode;
  const nodes: FileNode[] = [];
  const clients: AutobahnClient[] = [];
  before(async () => {
    central = await startFileNode(centralDoc());
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const n of nodes) await n.stop();
    await central?.stop();
  });

  it('reads Crossbar.io\'s key.priv as written: the public key is the one in its key.pub', () => {
    const key = readNodeKey(join(HA, 'node2/.crossbar/key.priv'));
    const pub = parseKeyFile(readFileSync(join(HA, 'node2/.crossbar/key.pub'), 'utf8'), 'key.pub');
    assert.equal(key.publicHex, pub.get('public-key-ed25519'));
  });

  it('joins the remote as the principal its key names (no authid configured) and forwards events', async () => {
    const site = await startFileNode(siteDoc(central.port('rawsocket')), { 'key.priv': readFileSync(join(HA, 'node2/.crossbar/key.priv')) });
    nodes.push(site);
    const link = site.node.rlinks[0]!;
    await link.whenConnected();

    const pub = await client(central.port('web'));
    clients.push(pub);
    const sessions = (await pub.session.call('wamp.session.list')) as number[];
    const details = await Promise.all(sessions.map((id) => pub.session.call('wamp.session.get', [id]) as Promise<Doc>));
    const linkSession = details.find((d) => d.authmethod === 'cryptosign');
    assert.ok(linkSession, JSON.stringify(details));
    assert.equal(linkSession.authid, 'node2');
    assert.equal(linkSession.authrole, 'router2router');

    const sub = await client(site.port('web'));
    clients.push(sub);
    const got: unknown[] = [];
    await sub.session.subscribe('ha.news', (args) => void got.push(args?.[0]));
    await subscribers(pub.session, 'ha.news', 1);
    await pub.session.publish('ha.news', ['from central'], {}, { acknowledge: true });
    await eventually(() => got.length === 1, 'the forwarded event');
    assert.deepEqual(got, ['from central']);
    assert.ok(site.logs.some((l) => l.msg === 'rlinks authenticate with the node key (cryptosign)' && l.pubkey === 'b45d9693346a5327f2b7f59b9fc04f2822b18c2be970938ea53564003aa2083d'));
  });

  it('a node without a key creates one (Crossbar.io\'s format, 0600); the remote refuses it, and the link retries with back-off, logging each refusal', async () => {
    const site = await startFileNode(siteDoc(central.port('rawsocket')));
    nodes.push(site);
    const priv = join(site.cbdir, 'key.priv');
    assert.equal(statSync(priv).mode & 0o777, 0o600);
    const tags = parseKeyFile(readFileSync(priv, 'utf8'), priv);
    // The tags Crossbar.io's _maybe_generate_node_key requires of a key.priv.
    for (const t of ['creator', 'created-at', 'machine-id', 'public-key-ed25519', 'private-key-ed25519']) assert.ok(tags.has(t), t);
    const pubkey = tags.get('public-key-ed25519');
    assert.equal(parseKeyFile(readFileSync(join(site.cbdir, 'key.pub'), 'utf8'), 'key.pub').get('public-key-ed25519'), pubkey);
    assert.ok(site.logs.some((l) => l.msg === 'node key created: rlinks authenticate with it (cryptosign)' && l.pubkey === pubkey));

    const refusals = () => site.logs.filter((l) => l.msg === 'rlink refused by the remote router; retrying with back-off');
    await eventually(() => refusals().length >= 3, 'three refused attempts', 15_000);
    const r = refusals();
    for (const l of r) {
      assert.equal(l.level, 40); // warn, every time
      assert.equal(l.rlink, 'site_to_central');
      assert.equal(l.pubkey, pubkey);
      assert.match(String(l.reason), /wamp\.error\.(authentication_failed|not_authorized)/);
    }
    // Crossbar.io's ApplicationRunner back-off: 1 s, then ×1.5, each wait jittered to 50–100 %.
    const expected = [1000, 1500, 2250];
    r.slice(0, 3).forEach((l, i) => {
      const ms = l.retryMs as number;
      assert.ok(ms >= expected[i]! * 0.5 - 1 && ms <= expected[i]!, `wait ${i + 1}: ${ms} ms`);
    });
    assert.equal(site.node.rlinks[0]!.connects, 0);
    assert.equal(site.node.rlinks[0]!.state, 'connecting');
  });
});
