/**
 * rlinks over TLS, configured as Crossbar.io configures a connecting endpoint's TLS
 * (`endpoint.tls`: hostname, ca_certificates, certificate, key; check_connecting_endpoint_tls):
 * RawSocket over TLS and WebSocket over TLS between two xbar routers, the remote admitting links
 * by cryptosign only; the remote's certificate is verified (a CA that did not sign it, or a
 * hostname it does not name, and the link does not come up, saying why); over TLS 1.2 the link's
 * cryptosign signature is bound to the channel (tls-unique), as Autobahn's clients bind theirs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.js';
import type { AutobahnClient } from '../../helpers/clients.js';
import { makeCertificates, type Certificates } from '../auth/support.js';
import { loadOrCreateNodeKey } from '../../../src/rlinks/node-key.js';
import { client, routerDoc, startFileNode, subscribers, type FileNode } from './support.js';

type Doc = Record<string, unknown>;

const allowAll = (name: string): Doc => ({
  name,
  permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: true, publisher: true }, cache: true }],
});

describe('rlinks over TLS', () => {
  let certs: Certificates;
  let central: FileNode;
  let keyDir: string;
  let keyFile: Buffer;
  /** Ports of central's listeners, in its config's order. */
  let ports: number[];
  const nodes: FileNode[] = [];
  /** What the dynamic authenticator was asked (its details argument). */
  const asked: Doc[] = [];
  const clients: AutobahnClient[] = [];

  before(async () => {
    certs = makeCertificates();
    keyDir = mkdtempSync(join(tmpdir(), 'xbar-rlink-key-'));
    const { key } = loadOrCreateNodeKey(join(keyDir, 'key.priv'));
    keyFile = readFileSync(join(keyDir, 'key.priv'));
    const auth = { cryptosign: { type: 'static', principals: { site1: { realm: 'realm1', role: 'router2router', authorized_keys: [key.publicHex] } } } };
    const tls = { key: certs.serverKey, certificate: certs.serverCert };
    central = await startFileNode(routerDoc([{ name: 'realm1', roles: [allowAll('anonymous'), allowAll('router2router')] }], [
      { type: 'web', endpoint: { type: 'tcp', port: 8080 }, paths: { ws: { type: 'websocket' } } },
      { type: 'rawsocket', endpoint: { type: 'tcp', port: 8081, tls }, auth },
      { type: 'web', endpoint: { type: 'tcp', port: 8082, tls }, paths: { ws: { type: 'websocket', auth } } },
      // A dynamic authenticator here, to see what the link's HELLO asked for.
      { type: 'rawsocket', endpoint: { type: 'tcp', port: 8083, tls: { ...tls, max_version: 'TLSv1.2' } }, auth: { cryptosign: { type: 'dynamic', authenticator: 'test.authenticate' } } },
    ]));
    ports = central.node.addresses.map((a) => a.port!);
    const authenticator = await client(ports[0]!);
    clients.push(authenticator);
    await authenticator.session.register('test.authenticate', (args) => {
      asked.push(args![2] as Doc);
      return { realm: 'realm1', role: 'router2router', authid: 'site1', pubkey: key.publicHex };
    });
  });

  after(async () => {
    for (const c of clients) await c.close();
    for (const n of nodes) await n.stop();
    await central?.stop();
    certs?.cleanup();
    rmSync(keyDir, { recursive: true, force: true });
  });

  /** A site node with one link over `transport`, the node key central knows. */
  async function site(transport: Doc): Promise<FileNode> {
    const n = await startFileNode(routerDoc([{
      name: 'realm1', roles: [allowAll('anonymous')],
      rlinks: [{ id: 'site_to_central', realm: 'realm1', transport, forward_remote_events: false, forward_local_invocations: false, forward_remote_invocations: false }],
    }], [{ type: 'web', endpoint: { type: 'tcp', port: 8090 }, paths: { ws: { type: 'websocket' } } }]), { 'key.priv': keyFile });
    nodes.push(n);
    return n;
  }

  /** A central event reaches a subscriber on `s` through its link; the link's session on central (by its serializer). */
  async function forwards(s: FileNode, topic: string, serializer: string): Promise<Doc> {
    await s.node.rlinks[0]!.whenConnected();
    const pub = await client(ports[0]!);
    const sub = await client(s.port('web'));
    clients.push(pub, sub);
    const got: unknown[] = [];
    await sub.session.subscribe(topic, (args) => void got.push(args?.[0]));
    await subscribers(pub.session, topic, 1);
    await pub.session.publish(topic, ['over tls'], {}, { acknowledge: true });
    await eventually(() => got.length === 1, `the event on ${topic}`);
    const ids = (await pub.session.call('wamp.session.list')) as number[];
    const all = await Promise.all(ids.map((id) => pub.session.call('wamp.session.get', [id]) as Promise<Doc>));
    // Each test's link speaks its own serializer.
    const mine = all.filter((d) => d.authid === 'site1' && (d.transport as Doc).serializer === serializer);
    assert.equal(mine.length, 1, JSON.stringify(all));
    return mine[0]!;
  }

  const tcpTls = (port: number, tls: Doc): Doc => ({ type: 'tcp', host: '127.0.0.1', port, tls });

  it('RawSocket over TLS, trusting the test CA for hostname localhost: joins by cryptosign and forwards', async () => {
    const s = await site({ type: 'rawsocket', serializer: 'cbor', endpoint: tcpTls(ports[1]!, { hostname: 'localhost', ca_certificates: [certs.ca] }) });
    const d = await forwards(s, 'tls.rs', 'cbor');
    assert.equal(d.authmethod, 'cryptosign');
    assert.equal(d.authrole, 'router2router');
  });

  it('WebSocket over TLS (wss:// url, endpoint tls): joins by cryptosign and forwards', async () => {
    const s = await site({
      type: 'websocket', serializers: ['msgpack'], url: `wss://localhost:${ports[2]}/ws`,
      endpoint: tcpTls(ports[2]!, { hostname: 'localhost', ca_certificates: [certs.ca] }),
    });
    const d = await forwards(s, 'tls.ws', 'msgpack');
    assert.equal(d.authmethod, 'cryptosign');
  });

  it('over TLS 1.2 the cryptosign signature is bound to the channel (tls-unique)', async () => {
    const s = await site({ type: 'rawsocket', serializer: 'json', endpoint: tcpTls(ports[3]!, { hostname: 'localhost', ca_certificates: [certs.ca] }) });
    const d = await forwards(s, 'tls.rs12', 'json');
    assert.equal(d.authmethod, 'cryptosign');
    assert.equal(d.authprovider, 'dynamic');
    // The link asked for the binding, and its signature verified against challenge XOR SHA-256(tls-unique).
    assert.equal(asked.length, 1);
    const extra = asked[0]!.authextra as Doc;
    assert.equal(extra.channel_binding, 'tls-unique');
    assert.equal(extra.pubkey, readFileSync(join(keyDir, 'key.priv'), 'utf8').match(/public-key-ed25519: (\w+)/)![1]);
    assert.match(String(((asked[0]!.transport as Doc).channel_id as Doc)['tls-unique']), /^[0-9a-f]{64}$/);
  });

  it('a CA that did not sign the remote\'s certificate, or a hostname it does not name: the link stays down and says why', async () => {
    const wrongCa = await site({ type: 'rawsocket', serializer: 'cbor', endpoint: tcpTls(ports[1]!, { hostname: 'localhost', ca_certificates: [join(certs.dir, 'other-ca.crt')] }) });
    const wrongName = await site({ type: 'rawsocket', serializer: 'cbor', endpoint: tcpTls(ports[1]!, { hostname: 'central.example', ca_certificates: [certs.ca] }) });
    const down = (n: FileNode) => n.logs.find((l) => l.msg === 'rlink down; reconnecting');
    await eventually(() => down(wrongCa) !== undefined && down(wrongName) !== undefined, 'both links to fail');
    assert.match(String(down(wrongCa)!.reason), /certificate/i);
    assert.match(String(down(wrongName)!.reason), /central\.example/);
    assert.equal(wrongCa.node.rlinks[0]!.connects, 0);
    assert.equal(wrongName.node.rlinks[0]!.connects, 0);
  });
});
