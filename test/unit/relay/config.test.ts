import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { relayConfig } from '../../../src/cli/relay.js';
import { RELAY_DEFAULTS } from '../../../src/config/normalize-relay.js';
import type { WebTransportConfig } from '../../../src/config/types.js';
import { minimalDoc, problems, transportOf, type Doc } from '../config/config-helpers.js';

function withRelay(relay: Doc, key = 'relay'): Doc {
  const doc = minimalDoc();
  (transportOf(doc, 0)['paths'] as Doc)[key] = relay;
  return doc;
}

const relayStats = (built: ReturnType<typeof relayConfig>) => {
  const t = built.config.transports[0] as WebTransportConfig;
  const r = t.paths.get('');
  return r?.type === 'relay' ? r.stats : undefined;
};

const relayOf = (doc: Doc, key = 'relay') => (parseConfig(doc, 'test.json').transports[0] as WebTransportConfig).paths.get(key === '/' ? '' : key);

describe('the relay path service in the config', () => {
  it('fills practable-like defaults', () => {
    assert.deepEqual(relayOf(withRelay({ type: 'relay' })), { type: 'relay', ...RELAY_DEFAULTS });
    assert.deepEqual(RELAY_DEFAULTS, {
      codeTtl: 30_000, queueMessages: 128, queueBytes: 64 * 1024 * 1024, slowConsumerTimeout: 10_000, maxMessageSize: 16 * 1024 * 1024,
      maxConnectionsPerTopic: 1000, stats: 'public', statsInterval: 5000,
    });
  });

  it('shows the stats of a relay that requires tokens to the admin only, unless the config says otherwise', () => {
    const stats = (relay: Doc) => {
      const r = relayOf(withRelay({ type: 'relay', ...relay }));
      return r?.type === 'relay' ? r.stats : undefined;
    };
    assert.equal(stats({ tokens: { secret: 's3cret' } }), 'admin');
    assert.equal(stats({ tokens: { secret: 's3cret', required: true } }), 'admin');
    assert.equal(stats({ tokens: { secret: 's3cret', required: false } }), 'public', 'a relay open to anyone has nothing to hide in its stats');
    assert.equal(stats({}), 'public');
    assert.equal(stats({ tokens: { secret: 's3cret' }, stats: 'public' }), 'public');
    assert.equal(relayStats(relayConfig({ secret: 's3cret', logLevel: 'info' }, {})), 'admin', 'xbar relay --secret');
    assert.equal(relayStats(relayConfig({ logLevel: 'info' }, {})), 'public');
    assert.equal(relayStats(relayConfig({ secret: 's3cret', logLevel: 'info' }, { XBAR_STATS: 'public' })), 'public');
    assert.throws(() => relayConfig({ stats: 'private', logLevel: 'info' }, {}), /stats: expected public, admin or off/);
  });

  it('reads every option, mounted at the root', () => {
    const doc = withRelay({
      type: 'relay',
      tokens: { secret: 's3cret', audience: 'https://relay.example.org', required: false },
      admin_token: '0123456789abcdef',
      code_ttl: 10_000,
      queue_messages: 16,
      queue_bytes: 65_536,
      slow_consumer_timeout: 2000,
      max_message_size: 1024,
      max_connections_per_topic: 50,
      stats: 'admin',
      stats_interval: 1000,
      bridge: { realm: 'realm1', prefix: 'xbar.relay' },
    }, '/');
    assert.deepEqual(relayOf(doc, '/'), {
      type: 'relay',
      tokens: { secret: 's3cret', audience: 'https://relay.example.org', required: false },
      adminToken: '0123456789abcdef',
      codeTtl: 10_000, queueMessages: 16, queueBytes: 65_536, slowConsumerTimeout: 2000, maxMessageSize: 1024, maxConnectionsPerTopic: 50,
      stats: 'admin', statsInterval: 1000,
      bridge: { realm: 'realm1', prefix: 'xbar.relay' },
    });
    const pk = relayOf(withRelay({ type: 'relay', tokens: { public_key_file: 'keys/relay.pem' } }));
    assert.deepEqual(pk?.type === 'relay' ? pk.tokens : undefined, { publicKeyFile: 'keys/relay.pem', required: true });
  });

  it('reports unknown keys and bad values with their key paths', () => {
    assert.deepEqual(
      problems(withRelay({ type: 'relay', buffer_size: 128, tokens: { secret: 'x', key: 'y' }, bridge: { realm: 'realm1', prefix: 'a.', topic: 'z' } })),
      [
        'workers[0].transports[0].paths.relay.tokens.key: unknown key; allowed: secret, public_key_file, audience, required',
        'workers[0].transports[0].paths.relay.bridge.prefix: expected URI prefix (a WAMP URI without a trailing "."), got "a."',
        'workers[0].transports[0].paths.relay.bridge.topic: unknown key; allowed: realm, prefix',
        'workers[0].transports[0].paths.relay.buffer_size: unknown key; allowed: type, tokens, admin_token, code_ttl, queue_messages, queue_bytes, slow_consumer_timeout, max_message_size, max_connections_per_topic, stats, stats_interval, bridge, allowed_origins, allow_null_origin',
      ],
    );
    assert.deepEqual(
      problems(withRelay({ type: 'relay', queue_messages: 0, queue_bytes: '8MB', stats: 'private', admin_token: 'short', code_ttl: 10 })),
      [
        'workers[0].transports[0].paths.relay.admin_token: expected string of at least 16 characters, got "short"',
        'workers[0].transports[0].paths.relay.code_ttl: expected integer 1000-3600000 (milliseconds), got 10',
        'workers[0].transports[0].paths.relay.queue_messages: expected integer 1-65536 (messages), got 0',
        'workers[0].transports[0].paths.relay.queue_bytes: expected integer 1024-1073741824 (bytes), got "8MB"',
        'workers[0].transports[0].paths.relay.stats: expected one of "public", "admin", "off", got "private"',
      ],
    );
  });

  it('needs exactly one token key, and a bridge realm that exists', () => {
    const one = 'set exactly one of "secret" (HS256) or "public_key_file" (Ed25519 or RSA public key, PEM)';
    assert.deepEqual(problems(withRelay({ type: 'relay', tokens: { audience: 'a' } })), [`workers[0].transports[0].paths.relay.tokens: ${one}`]);
    assert.deepEqual(problems(withRelay({ type: 'relay', tokens: { secret: 'a', public_key_file: 'k.pem' } })), [`workers[0].transports[0].paths.relay.tokens: ${one}`]);
    assert.deepEqual(problems(withRelay({ type: 'relay', bridge: { realm: 'nowhere', prefix: 'x' } })), [
      'workers[0].transports[0].paths.relay.bridge.realm: no realm "nowhere" in this config',
    ]);
  });
});
