/**
 * A realm's `rlinks` as Crossbar.io checks them (RLinkConfig.parse, check_connecting_transport):
 * the crossbar-examples rlinks configs (copied in test/fixtures) load with Crossbar.io's defaults filled in, and a bad link
 * is refused with the key path.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { minimalDoc, problems, type Doc } from './config-helpers.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';

const EXAMPLES = crossbarExample('rlinks');

function realmOf(doc: Doc): Doc {
  return ((doc['workers'] as Doc[])[0]!['realms'] as Doc[])[0]!;
}

const wsLink = (): Doc => ({
  id: 'to_central', realm: 'realm1',
  transport: { type: 'websocket', endpoint: { type: 'tcp', host: 'localhost', port: 8001 }, url: 'ws://localhost:8001/ws' },
});

describe('realm rlinks config', () => {
  it('loads the rlinks/_work example with Crossbar.io\'s defaults (everything forwarded, JSON over WebSocket)', async () => {
    const config = await loadConfigFile(`${EXAMPLES}/_work/node2/.crossbar/config.json`);
    const [l] = config.realms[0]!.rlinks!;
    assert.deepEqual(l, {
      id: 'rlink_2_1', realm: 'realm1',
      transport: { type: 'websocket', url: 'ws://localhost:8001/ws', serializer: 'json', timeoutMs: 10_000 },
      // Crossbar.io's node key, in the node directory beside the config.
      nodeKeyFile: `${EXAMPLES}/_work/node2/.crossbar/key.priv`,
      excludeAuthid: [],
      forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
    });
  });

  it('reads the rlinks/ha_setup links (RawSocket, CBOR, forward_remote_* only)', () => {
    const doc = JSON.parse(readFileSync(`${EXAMPLES}/ha_setup/node1/.crossbar/config.json`, 'utf8')) as Doc;
    const links = realmOf(doc)['rlinks'] as Doc[];
    const d = minimalDoc();
    realmOf(d)['rlinks'] = links;
    const config = parseConfig(d, 'test');
    assert.equal(config.realms[0]!.rlinks!.length, 3);
    assert.deepEqual(config.realms[0]!.rlinks![0], {
      id: 'rlink_1_2', realm: 'realm1',
      transport: { type: 'rawsocket', target: { host: 'localhost', port: 5082 }, serializer: 'cbor', timeoutMs: 10_000 },
      nodeKeyFile: join(process.cwd(), 'key.priv'),
      excludeAuthid: [],
      forwardLocalEvents: false, forwardRemoteEvents: true, forwardLocalInvocations: false, forwardRemoteInvocations: true,
    });
  });

  it('takes a unix-socket endpoint, exclude_authid and authid', () => {
    const d = minimalDoc();
    realmOf(d)['rlinks'] = [{
      realm: 'remote1', authid: 'site7', exclude_authid: ['monitor'],
      transport: { type: 'rawsocket', endpoint: { type: 'unix', path: '/tmp/central.sock' }, serializer: 'msgpack' },
    }];
    const [l] = parseConfig(d, 'test').realms[0]!.rlinks!;
    assert.equal(l!.id, 'realm1_rlink1');
    assert.equal(l!.authid, 'site7');
    assert.deepEqual(l!.excludeAuthid, ['monitor']);
    assert.deepEqual(l!.transport, { type: 'rawsocket', target: { path: '/tmp/central.sock' }, serializer: 'msgpack', timeoutMs: 10_000 });
  });

  it('refuses a link without realm, a RawSocket without serializer, a non-ws url, TLS without hostname and a TLS file that cannot be read, by key path', () => {
    const d = minimalDoc();
    const noRealm = wsLink();
    delete noRealm['realm'];
    const noSerializer = { ...wsLink(), transport: { type: 'rawsocket', endpoint: { type: 'tcp', host: 'h', port: 1 } } };
    const badUrl = { ...wsLink(), transport: { ...(wsLink()['transport'] as Doc), url: 'http://x/ws' } };
    const tls = { ...wsLink(), transport: { ...(wsLink()['transport'] as Doc), endpoint: { type: 'tcp', host: 'h', port: 1, tls: {} } } };
    const flag = { ...wsLink(), forward_local_events: 'yes' };
    const authmethods = { ...wsLink(), authmethods: ['ticket'] };
    realmOf(d)['rlinks'] = [noRealm, noSerializer, badUrl, tls, flag, authmethods];
    const p = problems(d);
    assert.equal(p.length, 6, p.join('\n'));
    assert.match(p[0]!, /^workers\[0\]\.realms\[0\]\.rlinks\[0\]\.realm: /);
    assert.match(p[1]!, /^workers\[0\]\.realms\[0\]\.rlinks\[1\]\.transport\.serializer: /);
    assert.match(p[2]!, /^workers\[0\]\.realms\[0\]\.rlinks\[2\]\.transport\.url: expected ws:\/\/ or wss:\/\/ URL/);
    assert.match(p[3]!, /^workers\[0\]\.realms\[0\]\.rlinks\[3\]\.transport\.endpoint\.tls\.hostname: /);
    assert.match(p[4]!, /^workers\[0\]\.realms\[0\]\.rlinks\[4\]\.forward_local_events: expected true or false/);
    // Crossbar.io's RLinkConfig.parse knows authid only: the link authenticates with the node key.
    assert.match(p[5]!, /^workers\[0\]\.realms\[0\]\.rlinks\[5\]\.authmethods: unknown key/);

    const missing = minimalDoc();
    realmOf(missing)['rlinks'] = [{ ...wsLink(), transport: { type: 'rawsocket', serializer: 'cbor', endpoint: { type: 'tcp', host: 'h', port: 1, tls: { hostname: 'h', ca_certificates: ['nope.pem'] } } } }];
    assert.throws(() => parseConfig(missing, 'test', tmpdir()), /rlinks\[0\]\.transport\.endpoint\.tls\.ca_certificates\[0\]: cannot read/);
  });

  it('reads a TLS endpoint\'s files relative to the node directory (Crossbar.io\'s cbdir) and checks them at load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xbar-rlink-tls-'));
    try {
      // A file that is there but is no PEM certificate: refused at load, not at the first handshake.
      writeFileSync(join(dir, 'x.txt'), 'not a certificate');
      const d = minimalDoc();
      realmOf(d)['rlinks'] = [{ ...wsLink(), transport: { type: 'rawsocket', serializer: 'cbor', endpoint: { type: 'tcp', host: 'h', port: 1, tls: { hostname: 'central', ca_certificates: ['x.txt'] } } } }];
      assert.throws(() => parseConfig(d, 'test', dir), /ca_certificates\[0\]: .*certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
