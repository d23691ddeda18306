/**
 * What `xbar check` says beyond "valid": the key a mistyped one most likely meant, roles that no
 * realm defines (a warning: Crossbar.io runs the file and refuses such clients at join), and two
 * permissions for one URI — Crossbar.io's role keeps the later one (crossbar/router/role.py), so
 * does xbar, with a warning. And `compression.deflate` read as Crossbar.io's keys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closest } from '../../../src/config/issues.js';
import { parseConfig } from '../../../src/config/load.js';
import type { WebSocketPathConfig } from '../../../src/config/types.js';
import { minimalDoc, problems, transportOf, worker, type Doc } from './config-helpers.js';

const realmOf = (doc: Doc): Doc => (worker(doc)['realms'] as Doc[])[0] as Doc;

describe('xbar check advice', () => {
  it('suggests the closest allowed key for an unknown one', () => {
    const doc = minimalDoc();
    (transportOf(doc, 0)['paths'] as Doc)['ws'] = { type: 'websocket', options: { auto_ping_intervall: 1000, AUTO_PING_TIMEOUT: 5 } };
    const found = problems(doc);
    assert.equal(found.length, 2, found.join('\n'));
    assert.match(found[0]!, /^workers\[0\]\.transports\[0\]\.paths\.ws\.options\.auto_ping_intervall: unknown key; did you mean auto_ping_interval\?; allowed: /);
    assert.match(found[1]!, /options\.AUTO_PING_TIMEOUT: unknown key; did you mean auto_ping_timeout\?/);
    assert.equal(closest('frobnicate', ['type', 'realms', 'transports']), undefined, 'nothing close: no guess');
    assert.equal(closest('transport', ['type', 'realms', 'transports']), 'transports');
  });

  it('warns of a static principal, anonymous or JWT role that no realm (or not its realm) defines', () => {
    const doc = minimalDoc();
    (transportOf(doc, 0)['paths'] as Doc)['ws'] = {
      type: 'websocket',
      auth: {
        anonymous: { type: 'static', role: 'guest' },
        ticket: { type: 'static', principals: { alice: { ticket: 'secret', role: 'admin' }, bob: { ticket: 's2', role: 'anonymous', realm: 'realm1' } } },
        wampcra: { type: 'static', users: { carol: { secret: 'x', role: 'user', realm: 'realm1' } } },
      },
    };
    const config = parseConfig(doc, 'node.json');
    assert.deepEqual(config.warnings, [
      'workers[0].transports[0].paths.ws.auth.anonymous.role: no realm defines role "guest" (roles: anonymous); every anonymous client would be refused with wamp.error.no_such_role',
      'workers[0].transports[0].paths.ws.auth.ticket.principals.alice.role: no realm defines role "admin" (roles: anonymous); "alice" would be refused with wamp.error.no_such_role',
      'workers[0].transports[0].paths.ws.auth.wampcra.users.carol.role: realm "realm1" has no role "user" (its roles: anonymous); "carol" would be refused with wamp.error.no_such_role',
    ]);
    const fine = minimalDoc();
    assert.equal(parseConfig(fine, 'node.json').warnings, undefined, 'a config whose roles exist has no warnings');
  });

  it('warns of auth "cookie" where no cookie is tracked (Crossbar.io runs it; it never authenticates)', () => {
    const doc = minimalDoc();
    const paths = transportOf(doc, 0)['paths'] as Doc;
    paths['ws'] = { type: 'websocket', auth: { anonymous: { type: 'static' }, cookie: {} } };
    paths['tracked'] = { type: 'websocket', cookie: {}, auth: { anonymous: { type: 'static' }, cookie: {} } };
    transportOf(doc, 1)['auth'] = { anonymous: { type: 'static' }, cookie: {} };
    assert.deepEqual(parseConfig(doc, 'node.json').warnings, [
      'workers[0].transports[0].paths.ws.auth.cookie: no cookie is tracked here (only a WebSocket transport or path with "cookie" tracks one), so this method never authenticates anyone',
      'workers[0].transports[1].auth.cookie: no cookie is tracked here (only a WebSocket transport or path with "cookie" tracks one), so this method never authenticates anyone',
    ]);
  });

  it('two permissions for one URI: the later wins, as in Crossbar.io, with a warning', () => {
    const doc = minimalDoc();
    realmOf(doc)['roles'] = [{
      name: 'anonymous',
      permissions: [
        { uri: 'com.a.', match: 'prefix', allow: { call: true } },
        { uri: 'com.b', allow: { call: true } },
        { uri: 'com.a.', match: 'exact', allow: { publish: true } },
        { uri: 'com..x', match: 'wildcard', allow: { subscribe: true } },
        { uri: 'com..y', match: 'wildcard', allow: { register: true } },
      ],
    }];
    const config = parseConfig(doc, 'node.json');
    const kept = config.realms[0]!.roles[0]!.permissions.map((p) => [p.uri, p.match, Object.entries(p.allow).filter(([, v]) => v).map(([k]) => k).join()]);
    assert.deepEqual(kept, [['com.b', 'exact', 'call'], ['com.a.', 'exact', 'publish'], ['com..y', 'wildcard', 'register']]);
    assert.deepEqual(config.warnings, [
      'workers[0].realms[0].roles[0].permissions[2].uri: a second permission for "com.a." in role "anonymous"; it replaces the one at workers[0].realms[0].roles[0].permissions[0], as in Crossbar.io',
      'workers[0].realms[0].roles[0].permissions[4].uri: a second permission for "com..y" in role "anonymous"; it replaces the one at workers[0].realms[0].roles[0].permissions[3], as in Crossbar.io',
    ]);
  });

  it('reads compression.deflate with Crossbar.io\'s keys and defaults, and refuses unknown ones', () => {
    const doc = minimalDoc();
    const paths = transportOf(doc, 0)['paths'] as Doc;
    paths['ws'] = { type: 'websocket', options: { compression: { deflate: { request_no_context_takeover: true, max_window_bits: 12, memory_level: 4 } } } };
    paths['plain'] = { type: 'websocket', options: { compression: {} } };
    const web = parseConfig(doc, 'node.json').transports[0]!;
    assert.ok(web.type === 'web');
    assert.deepEqual((web.paths.get('ws') as WebSocketPathConfig).deflate, {
      clientNoContextTakeover: true, clientMaxWindowBits: 0, serverNoContextTakeover: false, serverMaxWindowBits: 12, memoryLevel: 4,
    });
    assert.equal((web.paths.get('plain') as WebSocketPathConfig).deflate, undefined, 'compression without deflate: none, as Crossbar.io');
    paths['ws'] = { type: 'websocket', options: { compression: { deflate: { max_window_bit: 12 } } } };
    assert.match(problems(doc).join('\n'), /options\.compression\.deflate\.max_window_bit: unknown key; did you mean max_window_bits\?/);
  });
});
