import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { minimalDoc, problems, transportOf, worker, type Doc } from './config-helpers.js';

const realmOf = (doc: Doc): Doc => (worker(doc).realms as Doc[])[0]!;

describe('statistics, realm store and the stats/metrics/health path services', () => {
  it('reads a Crossbar.io memory store with event history, filling the limits', () => {
    const doc = minimalDoc();
    realmOf(doc).store = {
      type: 'memory', limit: 50,
      'event-history': [{ uri: 'com.example.log' }, { uri: 'com.example.', match: 'prefix', limit: 7, max_age: 60_000 }],
    };
    assert.deepEqual(parseConfig(doc, 'test').realms[0]!.store, {
      type: 'memory', maxRetained: 10_000,
      eventHistory: [
        { uri: 'com.example.log', match: 'exact', limit: 50 },
        { uri: 'com.example.', match: 'prefix', limit: 7, maxAge: 60_000 },
      ],
    });
  });

  it('names the key of every store problem', () => {
    const doc = minimalDoc();
    realmOf(doc).store = { type: 'cfxdb', 'call-queue': [] };
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].store.type: expected "memory", got "cfxdb"; "cfxdb" is a Crossbar.io store type that xbar does not run: use "memory"',
    ]);
    realmOf(doc).store = { type: 'memory', 'event-history': [{ uri: 'com..x', limit: 0 }], max_retained: -1 };
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].store["event-history"][0].limit: expected integer 1-1000000 (publications), got 0',
      'workers[0].realms[0].store["event-history"][0].uri: "com..x" is not a valid WAMP URI for match "exact"',
      'workers[0].realms[0].store.max_retained: expected integer 0-1000000 (topics), got -1',
    ]);
  });

  it('reads the top-level stats section and refuses bad values by key', () => {
    const doc = minimalDoc();
    doc.stats = { enabled: false, interval: 1000 };
    assert.deepEqual(parseConfig(doc, 'test').stats, { enabled: false, interval: 1000, topTopics: 10, maxTopics: 10_000 });
    doc.stats = { enabled: 'no', interval: 10, extra: 1 };
    assert.deepEqual(problems(doc), [
      'stats.enabled: expected true or false, got "no"',
      'stats.interval: expected integer 100-3600000 (milliseconds), got 10',
      'stats.extra: unknown key; allowed: enabled, interval, top_topics, max_topics',
    ]);
  });

  it('mounts stats, metrics and health path services, with access control and topic_names as their only options', () => {
    const doc = minimalDoc();
    transportOf(doc, 0).paths = { ws: { type: 'websocket' }, stats: { type: 'stats' }, metrics: { type: 'metrics' }, health: { type: 'health' } };
    const web = parseConfig(doc, 'test').transports[0]!;
    assert.deepEqual(web.type === 'web' ? [...web.paths.entries()].slice(1) : [], [
      ['stats', { type: 'stats' }], ['metrics', { type: 'metrics' }], ['health', { type: 'health' }],
    ]);
    transportOf(doc, 0).paths = { health: { type: 'health', path: '/ready' } };
    assert.deepEqual(problems(doc), ['workers[0].transports[0].paths.health.path: unknown key; allowed: type, access']);
  });

  it('reads access (token, networks) and topic_names, and names what is wrong with them', () => {
    const doc = minimalDoc();
    transportOf(doc, 0).paths = {
      stats: { type: 'stats', access: { token: '0123456789abcdef', networks: ['10.0.0.0/8', '::1', '2001:db8::/32'] }, topic_names: false },
      metrics: { type: 'metrics', access: { networks: ['127.0.0.1'] } },
      health: { type: 'health', access: { token: '0123456789abcdef' } },
    };
    const web = parseConfig(doc, 'test').transports[0]!;
    assert.deepEqual(web.type === 'web' ? [...web.paths.entries()] : [], [
      ['stats', { type: 'stats', access: { token: '0123456789abcdef', networks: ['10.0.0.0/8', '::1', '2001:db8::/32'] }, topicNames: false }],
      ['metrics', { type: 'metrics', access: { networks: ['127.0.0.1'] } }],
      ['health', { type: 'health', access: { token: '0123456789abcdef' } }],
    ]);
    transportOf(doc, 0).paths = {
      stats: { type: 'stats', access: { token: 'short', networks: ['10.0.0.0/33', 'localhost', '::1/129'], users: [] }, topic_names: 'no' },
      metrics: { type: 'metrics', access: { networks: [] } },
    };
    assert.deepEqual(problems(doc), [
      'workers[0].transports[0].paths.stats.access.token: expected string of at least 16 characters, got "short"',
      'workers[0].transports[0].paths.stats.access.networks[0]: "10.0.0.0/33": the prefix length must be 0-32',
      'workers[0].transports[0].paths.stats.access.networks[1]: "localhost" is not an IPv4 or IPv6 address or network (e.g. "10.0.0.0/8", "::1")',
      'workers[0].transports[0].paths.stats.access.networks[2]: "::1/129": the prefix length must be 0-128',
      'workers[0].transports[0].paths.stats.access.users: unknown key; allowed: token, networks',
      'workers[0].transports[0].paths.stats.topic_names: expected true or false, got "no"',
      'workers[0].transports[0].paths.metrics.access.networks: expected a list of at least 1 networks, got []',
    ]);
  });

  it('reads a TCP endpoint\'s proxy_protocol, proxy_protocol_timeout and trusted_proxies, and names what is wrong', () => {
    const doc = minimalDoc();
    transportOf(doc, 0).endpoint = { type: 'tcp', port: 8080, proxy_protocol: true, trusted_proxies: ['10.0.0.0/8', '::1'] };
    transportOf(doc, 1).endpoint = { type: 'tcp', port: 8081, proxy_protocol: true, proxy_protocol_timeout: 1000 };
    const [web, raw] = parseConfig(doc, 'test').transports;
    assert.deepEqual(web!.endpoint, { type: 'tcp', interface: '0.0.0.0', port: 8080, proxyProtocol: { timeout: 5000 }, trustedProxies: ['10.0.0.0/8', '::1'] });
    assert.deepEqual(raw!.endpoint, { type: 'tcp', interface: '0.0.0.0', port: 8081, proxyProtocol: { timeout: 1000 } });
    transportOf(doc, 0).endpoint = { type: 'tcp', port: 8080, proxy_protocol: 'yes', trusted_proxies: ['everyone'] };
    transportOf(doc, 1).endpoint = { type: 'tcp', port: 8081, proxy_protocol_timeout: 1000 };
    assert.deepEqual(problems(doc), [
      'workers[0].transports[0].endpoint.proxy_protocol: expected true or false, got "yes"',
      'workers[0].transports[0].endpoint.trusted_proxies[0]: "everyone" is not an IPv4 or IPv6 address or network (e.g. "10.0.0.0/8", "::1")',
      'workers[0].transports[1].endpoint.proxy_protocol_timeout: proxy_protocol_timeout needs "proxy_protocol": true',
    ]);
  });
  it("reads a realm's stats (Crossbar.io's session statistics) with Crossbar.io's defaults, trigger_after_duration in seconds", () => {
    const doc = minimalDoc();
    realmOf(doc).stats = { trigger_after_rated_messages: 10 };
    assert.deepEqual(parseConfig(doc, 'test').realms[0]!.sessionStats, {
      ratedMessageSize: 512, afterRatedMessages: 10, afterDurationMs: 0, onJoin: false, onLeave: true,
    });
    realmOf(doc).stats = { rated_message_size: 256, trigger_after_duration: 5, trigger_on_join: true, trigger_on_leave: false };
    assert.deepEqual(parseConfig(doc, 'test').realms[0]!.sessionStats, {
      ratedMessageSize: 256, afterRatedMessages: 0, afterDurationMs: 5000, onJoin: true, onLeave: false,
    });
    assert.equal(parseConfig(minimalDoc(), 'test').realms[0]!.sessionStats, undefined);
  });

  it("refuses a realm's stats that Crossbar.io's assertions refuse at every join, naming the key", () => {
    const doc = minimalDoc();
    realmOf(doc).stats = { trigger_on_join: true };
    assert.deepEqual(problems(doc), [
      "workers[0].realms[0].stats: set trigger_after_rated_messages or trigger_after_duration above 0 (Crossbar.io refuses every session's join without one)",
    ]);
    realmOf(doc).stats = { rated_message_size: 255, trigger_after_rated_messages: -1, trigger_on_leave: 'yes', trigger_every: 3 };
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].stats.rated_message_size: expected an even number of bytes (Crossbar.io asserts it)',
      'workers[0].realms[0].stats.trigger_after_rated_messages: expected integer >= 0 (rated messages; 0 = off), got -1',
      'workers[0].realms[0].stats.trigger_on_leave: expected true or false, got "yes"',
      'workers[0].realms[0].stats.trigger_every: unknown key; allowed: rated_message_size, trigger_after_rated_messages, trigger_after_duration, trigger_on_join, trigger_on_leave',
    ]);
  });
});
