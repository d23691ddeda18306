import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config/load.js';
import { minimalDoc, permissionOf, problems, transportOf, worker, type Doc } from './config-helpers.js';

describe('config problems name the exact key path', () => {
  it('reports a port of the wrong type with the value as written', () => {
    const doc = minimalDoc();
    (transportOf(doc, 1)['endpoint'] as Doc)['port'] = '80a';
    assert.deepEqual(problems(doc), ['workers[0].transports[1].endpoint.port: expected integer 1-65535, got "80a"']);
  });

  it('reports a port out of range', () => {
    const doc = minimalDoc();
    (transportOf(doc, 0)['endpoint'] as Doc)['port'] = 70000;
    assert.deepEqual(problems(doc), ['workers[0].transports[0].endpoint.port: expected integer 1-65535, got 70000']);
  });

  it('reports an unknown key in a worker with the allowed keys', () => {
    const doc = minimalDoc();
    worker(doc)['foo'] = 1;
    assert.deepEqual(problems(doc), ['workers[0].foo: unknown key; allowed: type, id, options, realms, transports, components']);
  });

  it('reports an unknown top-level key', () => {
    const doc = { ...minimalDoc(), node: {} };
    assert.deepEqual(problems(doc), ['node: unknown key; allowed: $schema, version, controller, limits, stats, cluster, workers']);
  });

  it('lists the allowed values of an enum', () => {
    const doc = minimalDoc();
    permissionOf(doc)['match'] = 'regex';
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].roles[0].permissions[0].match: expected one of "exact", "prefix", "wildcard", got "regex"',
    ]);
  });

  it('reports a value of the wrong type as JSON', () => {
    const doc = minimalDoc();
    permissionOf(doc)['allow'] = { call: 'yes' };
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].roles[0].permissions[0].allow.call: expected true or false, got "yes"',
    ]);
  });

  it('reports a missing required key', () => {
    const doc = minimalDoc();
    delete ((worker(doc)['realms'] as Doc[])[0] as Doc)['name'];
    assert.deepEqual(problems(doc), ['workers[0].realms[0].name: missing; expected realm name']);
  });

  it('names an unknown serializer; lets Crossbar.io\'s ubjson/flatbuffers stand beside ours, never alone', () => {
    const doc = minimalDoc();
    transportOf(doc, 1)['serializers'] = ['json', 'yaml'];
    assert.deepEqual(problems(doc), [
      'workers[0].transports[1].serializers[1]: expected one of "json", "msgpack", "cbor", "ubjson", "flatbuffers", got "yaml"',
    ]);
    transportOf(doc, 1)['serializers'] = ['cbor', 'ubjson', 'json'];
    const t = parseConfig(doc, 'x.json').transports[1] as { serializers: readonly string[] };
    assert.deepEqual(t.serializers, ['cbor', 'json']);
    transportOf(doc, 1)['serializers'] = ['ubjson', 'flatbuffers'];
    assert.deepEqual(problems(doc), [
      'workers[0].transports[1].serializers: ubjson and flatbuffers are Crossbar.io serializers xbar does not speak; list "json", "msgpack" or "cbor" too',
    ]);
  });

  it('rejects a serializer listed twice and an empty serializer list', () => {
    const doc = minimalDoc();
    transportOf(doc, 1)['serializers'] = ['json', 'cbor', 'json'];
    ((transportOf(doc, 0)['paths'] as Doc)['ws'] as Doc)['serializers'] = [];
    assert.deepEqual(problems(doc), [
      'workers[0].transports[0].paths.ws.serializers: expected a list of at least 1 serializers, got []',
      'workers[0].transports[1].serializers[2]: "json" is listed twice',
    ]);
  });

  it('rejects a worker type other than router, container, guest and websocket-testee, naming the allowed types', () => {
    const doc = minimalDoc();
    (doc['workers'] as Doc[]).push({ type: 'proxy' }, { type: 'nodejs' });
    assert.deepEqual(problems(doc), [
      'workers[1].type: expected one of "router", "container", "guest", "websocket-testee", got "proxy"; "proxy" is a Crossbar.io worker type that xbar does not run: run the nodes behind HAProxy or as one xbar cluster (the top-level "cluster" key)',
      'workers[2].type: expected one of "router", "container", "guest", "websocket-testee", got "nodejs"',
    ]);
  });

  it('rejects an unknown transport type, listing the allowed ones', () => {
    const doc = minimalDoc();
    transportOf(doc, 1)['type'] = 'carrier-pigeon';
    assert.deepEqual(problems(doc), [
      'workers[0].transports[1].type: expected one of "web", "websocket", "rawsocket", "mqtt", "universal", "flashpolicy", ' +
        '"websocket.testee", "stream.testee", got "carrier-pigeon"',
    ]);
  });

  it('serves a transport repeated with shared endpoints once, and refuses shared endpoints whose transports differ', () => {
    const doc = minimalDoc();
    const first = transportOf(doc, 0);
    (first['endpoint'] as Doc)['shared'] = true;
    const routers = doc['workers'] as Doc[];
    routers.push({ type: 'router', transports: [JSON.parse(JSON.stringify(first)) as Doc] });
    assert.equal(parseConfig(doc, 'test.json').transports.length, 2);
    ((routers[1]!['transports'] as Doc[])[0]!['paths'] as Doc)['other'] = { type: 'websocket' };
    assert.deepEqual(problems(doc), [
      'workers[1].transports[0].endpoint: tcp 0.0.0.0:8080 clashes with tcp 0.0.0.0:8080 at workers[0].transports[0].endpoint',
    ]);
  });

  it('refuses the Crossbar.io realm keys xbar does not run by name, with what to do instead', () => {
    const doc = minimalDoc();
    const realm = ((doc['workers'] as Doc[])[0]!['realms'] as Doc[])[0]!;
    realm['inventory'] = {};
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].inventory: the realm inventory (payload schemas) is a Crossbar.io feature xbar does not run; remove the key',
    ]);
  });

  it('accepts a realm\'s trace as Crossbar.io does (any value, never read), with a warning that nothing is traced', () => {
    const doc = minimalDoc();
    const realm = ((doc['workers'] as Doc[])[0]!['realms'] as Doc[])[0]!;
    for (const value of [true, false, { roles: ['x'] }]) {
      realm['trace'] = value;
      assert.deepEqual(parseConfig(doc, 'test.json').warnings, [
        'workers[0].realms[0].trace: accepted and ignored, as by Crossbar.io (which never reads it): nothing is traced; the log (--log-level debug) and the stats path show the traffic',
      ]);
    }
    delete realm['trace'];
    assert.equal(parseConfig(doc, 'test.json').warnings, undefined);
  });

  it('refuses the Crossbar.io path services xbar does not run, saying what to do instead, and invalid path keys', () => {
    const doc = minimalDoc();
    const paths = transportOf(doc, 0)['paths'] as Doc;
    paths['py'] = { type: 'catalog' };
    paths['a/b'] = { type: 'websocket' };
    const allowed =
      '"websocket", "static", "redirect", "reverseproxy", "json", "nodeinfo", "path", "archive", "upload", "wap", "cgi", ' +
      '"websocket-reverseproxy", "relay", "stats", "metrics", "health", "rendezvous", "mqtt", "longpoll", "publisher", "caller", "webhook", "sse", "wsgi", "resource"';
    assert.deepEqual(problems(doc), [
      `workers[0].transports[0].paths.py.type: expected one of ${allowed}, got "catalog"; ` +
        '"catalog" is a Crossbar.io path service type that xbar does not run: the XBR data market catalog is a Crossbar.io feature xbar does not run; remove the path',
      'workers[0].transports[0].paths["a/b"]: invalid key "a/b"; expected "/" or one path segment of letters, digits, "_" or "-"',
    ]);
  });

  it('rejects Crossbar.io keys xbar does not implement instead of ignoring them', () => {
    const doc = minimalDoc();
    worker(doc)['manhole'] = {};
    assert.deepEqual(problems(doc), [
      'workers[0].manhole: the manhole (an SSH shell into the worker) is a Crossbar.io feature xbar does not run; remove the key',
    ]);
  });

  it('checks a WebSocket path\'s cookie as Crossbar.io\'s check_transport_cookie does, and refuses the database store naming the file store', () => {
    const doc = minimalDoc();
    const ws = (transportOf(doc, 0)['paths'] as Doc)['ws'] as Doc;
    ws['cookie'] = { name: 'Cbtid', length: 5, max_age: 0, same_site: 'strict', store: { type: 'database', path: '.cookies' } };
    ws['auth'] = { cookie: {}, anonymous: { type: 'static' } };
    assert.deepEqual(problems(doc), [
      'workers[0].transports[0].paths.ws.cookie.name: expected cookie name matching ^[a-z][a-z0-9_]+$, got "Cbtid"',
      'workers[0].transports[0].paths.ws.cookie.length: expected integer 6-64 (characters), got 5',
      'workers[0].transports[0].paths.ws.cookie.max_age: expected integer 1-311040000 (seconds), got 0',
      'workers[0].transports[0].paths.ws.cookie.store.type: expected one of "memory", "file", got "database"; ' +
        '"database" is a Crossbar.io cookie store type that xbar does not run: xbar keeps no LMDB database; use {"type": "file", "filename": …}',
      'workers[0].transports[0].paths.ws.cookie.same_site: expected one of "Strict", "Lax", "None", got "strict"',
    ]);
    ws['cookie'] = { store: { type: 'file', filename: 'cookies.dat', purge_on_startup: true }, http_strict: true };
    const t = parseConfig(doc, 'config.json', '/node/.crossbar').transports[0] as unknown as { paths: Map<string, unknown> };
    assert.deepEqual((t.paths.get('ws') as { cookie: unknown }).cookie, {
      name: 'cbtid', length: 24, maxAge: 604_800, secure: false, httpStrict: true,
      store: { type: 'file', file: '/node/.crossbar/cookies.dat' }, maxCookies: 100_000,
    });
    assert.equal((t.paths.get('ws') as { auth: { cookie?: true } }).auth.cookie, true);
  });

  it('reads allowed_origins and allow_null_origin, and names a pattern that does not compile', () => {
    const doc = minimalDoc();
    const ws = (transportOf(doc, 0)['paths'] as Doc)['ws'] as Doc;
    ws['options'] = { allowed_origins: ['https://*.example.com:*'], allow_null_origin: false };
    const web = parseConfig(doc, 'test.json').transports[0]!;
    const path = web.type === 'web' ? web.paths.get('ws') : undefined;
    assert.deepEqual(path?.type === 'websocket' ? [path.allowedOrigins, path.allowNullOrigin] : [], [['https://*.example.com:*'], false]);
    ws['options'] = { allowed_origins: ['https://(example.com'], allow_null_origin: 'no' };
    const [pattern, nullOrigin] = problems(doc);
    assert.match(pattern ?? '', /^workers\[0\]\.transports\[0\]\.paths\.ws\.options\.allowed_origins\[0\]: "https:\/\/\(example\.com" is not a valid origin pattern: /);
    assert.equal(nullOrigin, 'workers[0].transports[0].paths.ws.options.allow_null_origin: expected true or false, got "no"');
  });

  it('names the cluster key that is wrong', () => {
    const doc = { ...minimalDoc(), cluster: { nats: { servers: ['127.0.0.1:4222'] } } };
    assert.deepEqual(problems(doc), ['cluster.nats.servers[0]: expected a NATS URL such as "nats://127.0.0.1:4222", got "127.0.0.1:4222"']);
  });

  it('refuses cluster.advertise entries that are not client URLs, naming each', () => {
    const doc = { ...minimalDoc(), cluster: { advertise: ['ws://node1.example.com:8080/ws', 'http://node1.example.com/', 'rs://', 'node1:8081', 42] } };
    const expected = 'expected a client URL such as "ws://node1.example.com:8080/ws" or "rs://node1.example.com:8081" (ws, wss, rs or rss, with a host)';
    assert.deepEqual(problems(doc), [
      `cluster.advertise[1]: ${expected}, got "http://node1.example.com/"`,
      `cluster.advertise[2]: ${expected}, got "rs://"`,
      `cluster.advertise[3]: ${expected}, got "node1:8081"`,
      `cluster.advertise[4]: ${expected}, got 42`,
    ]);
    assert.deepEqual(problems({ ...minimalDoc(), cluster: { advertise: [] } }), ['cluster.advertise: expected a list of at least 1 client URLs, got []']);
  });

  it('takes cluster.advertise without NATS: one node that advertises', () => {
    const config = parseConfig({ ...minimalDoc(), cluster: { advertise: ['wss://edge.example.com/ws', 'rs://10.0.0.5:8081'] } }, 'test');
    assert.equal(config.cluster, undefined);
    assert.deepEqual(config.placement, { advertise: ['wss://edge.example.com/ws', 'rs://10.0.0.5:8081'] });
  });

  it('takes the balancing keys with their defaults, and refuses a high-water mark above max_sessions', () => {
    const config = parseConfig({ ...minimalDoc(), cluster: { max_sessions: 1000, high_water: 800 } }, 'test');
    assert.deepEqual(config.placement, { maxSessions: 1000, highWater: 800 });
    assert.deepEqual(problems({ ...minimalDoc(), cluster: { max_sessions: 100, high_water: 200 } }), ['cluster.high_water: expected at most max_sessions (100), got 200']);
    assert.deepEqual(problems({ ...minimalDoc(), cluster: { max_sessions: 0, shed: { rate: 0 } } }), [
      'cluster.max_sessions: expected integer 1-10000000, got 0',
      'cluster.shed.rate: expected integer 1-10000 (sessions/s), got 0',
    ]);
    assert.deepEqual(parseConfig({ ...minimalDoc(), cluster: { shed: { rate: 20 } } }, 'test').placement, { shed: { rate: 20, margin: 10, settle: 5000 } });
  });

  it('names an unreadable NATS credentials file by its key path', () => {
    assert.throws(
      () => parseConfig({ ...minimalDoc(), cluster: { nats: { servers: ['nats://127.0.0.1:4222'], creds: '/nonexistent/user.creds' } } }, 'test'),
      /cluster\.nats\.creds: cannot read/,
    );
  });

  it('accepts a NATS cluster section and fills its defaults', () => {
    const config = parseConfig({ ...minimalDoc(), cluster: { nats: { servers: ['nats://127.0.0.1:4222'], heartbeat_interval: 200 } } }, 'test');
    assert.deepEqual(config.cluster, {
      servers: ['nats://127.0.0.1:4222'], name: 'xbar', node: undefined, user: undefined, password: undefined, token: undefined,
      heartbeatInterval: 200, deadAfter: 600,
    });
  });

  it('takes cluster.nats.replicas from 1 to 5', () => {
    const doc = (replicas: number) => ({ ...minimalDoc(), cluster: { nats: { servers: ['nats://127.0.0.1:4222'], replicas } } });
    assert.equal(parseConfig(doc(3), 'test').cluster?.replicas, 3);
    assert.deepEqual(problems(doc(0)), ['cluster.nats.replicas: expected integer 1-5, got 0']);
  });

  it('requires version 2', () => {
    const doc = { ...minimalDoc(), version: 1 };
    assert.deepEqual(problems(doc), [
      'version: expected 2, got 1; xbar reads Crossbar.io node configurations of version 2',
    ]);
  });

  it('reports a document that is not an object at the top level', () => {
    assert.deepEqual(problems([1, 2]), ['(top level): expected object, got [1,2]']);
  });

  it('refuses a starred URI combined with an explicit match policy', () => {
    const doc = minimalDoc();
    Object.assign(permissionOf(doc), { uri: 'com.example.*', match: 'prefix' });
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].roles[0].permissions[0].uri: "*" marks a starred URI and cannot be combined with "match"; ' +
        'write "com.example." with match "prefix", or drop "match"',
    ]);
  });

  it('refuses the reserved role name "trusted"', () => {
    const doc = minimalDoc();
    ((worker(doc)['realms'] as Doc[])[0] as Doc)['roles'] = [{ name: 'trusted' }];
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].roles[0].name: the role name "trusted" is reserved (Crossbar.io uses it for the router\'s own sessions)',
    ]);
  });

  it('enforces the RawSocket message size range of 512 B to 16 MiB', () => {
    const doc = minimalDoc();
    transportOf(doc, 1)['options'] = { max_message_size: 32 * 1024 * 1024 };
    assert.deepEqual(problems(doc), [
      'workers[0].transports[1].options.max_message_size: expected integer 512-16777216 (bytes), got 33554432',
    ]);
  });

  it('reports every problem of a document at once', () => {
    const doc = minimalDoc();
    (transportOf(doc, 0)['endpoint'] as Doc)['port'] = -1;
    transportOf(doc, 1)['options'] = { slow_consumer: 'block', hello_timeout: '10s' };
    permissionOf(doc)['cache'] = 1;
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].roles[0].permissions[0].cache: expected true or false, got 1',
      'workers[0].transports[0].endpoint.port: expected integer 1-65535, got -1',
      'workers[0].transports[1].options.slow_consumer: expected one of "drop", "disconnect", got "block"',
      'workers[0].transports[1].options.hello_timeout: expected integer 1-3600000 (milliseconds), got "10s"',
    ]);
  });
});

describe('config problems across items', () => {
  it('rejects two transports on the same TCP port and interface', () => {
    const doc = minimalDoc();
    (transportOf(doc, 1)['endpoint'] as Doc)['port'] = 8080;
    assert.deepEqual(problems(doc), [
      'workers[0].transports[1].endpoint: tcp 0.0.0.0:8080 clashes with tcp 0.0.0.0:8080 at workers[0].transports[0].endpoint',
    ]);
  });

  it('treats the all-interfaces address as clashing with any interface on that port', () => {
    const doc = minimalDoc();
    transportOf(doc, 0)['endpoint'] = { type: 'tcp', interface: '127.0.0.1', port: 8081 };
    assert.deepEqual(problems(doc), [
      'workers[0].transports[1].endpoint: tcp 0.0.0.0:8081 clashes with tcp 127.0.0.1:8081 at workers[0].transports[0].endpoint',
    ]);
  });

  it('allows one port on two distinct interfaces', () => {
    const doc = minimalDoc();
    transportOf(doc, 0)['endpoint'] = { type: 'tcp', interface: '127.0.0.1', port: 8080 };
    transportOf(doc, 1)['endpoint'] = { type: 'tcp', interface: '127.0.0.2', port: 8080 };
    assert.doesNotThrow(() => parseConfig(doc, 'test.json'));
  });

  it('rejects duplicate realm names across workers', () => {
    const doc = minimalDoc();
    (doc['workers'] as Doc[]).push({ type: 'router', realms: [{ name: 'realm1' }] });
    assert.deepEqual(problems(doc), [
      'workers[1].realms[0].name: duplicate realm name "realm1" (first at workers[0].realms[0].name); one realm served by several ' +
        'router workers (linked by rlinks) is a Crossbar.io feature xbar does not run: define the realm once, in one router worker, ' +
        'and list all its transports there (one xbar node serves a realm on every transport)',
    ]);
  });

  it('rejects duplicate role names in a realm', () => {
    const doc = minimalDoc();
    const realm = (worker(doc)['realms'] as Doc[])[0] as Doc;
    realm['roles'] = [{ name: 'user' }, { name: 'user' }];
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].roles[1].name: duplicate role name "user" in this realm (first at workers[0].realms[0].roles[0].name)',
    ]);
  });

  it('a later permission for the same URI replaces the earlier one, whatever its match (Crossbar.io keys them by URI)', () => {
    const doc = minimalDoc();
    const realm = (worker(doc)['realms'] as Doc[])[0] as Doc;
    realm['roles'] = [{
      name: 'user',
      permissions: [
        { uri: 'com.a.*', allow: { call: true } },
        { uri: 'com.b', allow: { call: true } },
        { uri: 'com.a.', match: 'exact', allow: { publish: true } },
      ],
    }];
    const role = parseConfig(doc, 'test.json').realms[0]!.roles.find((r) => r.name === 'user')!;
    assert.deepEqual(role.permissions.map((p) => [p.uri, p.match, p.allow.call, p.allow.publish]), [
      ['com.b', 'exact', true, false],
      ['com.a.', 'exact', false, true],
    ]);
  });

  it('allow-by-default: a role with neither permissions nor authorizer allows all when true, nothing otherwise (Crossbar.io\'s RouterRole)', () => {
    const doc = minimalDoc();
    const realm = (worker(doc)['realms'] as Doc[])[0] as Doc;
    realm['roles'] = [{ name: 'open', 'allow-by-default': true }, { name: 'closed' }, { name: 'listed', 'allow-by-default': true, permissions: [] }];
    const roles = parseConfig(doc, 'x.json').realms[0]!.roles;
    assert.deepEqual(roles.map((r) => r.permissions.map((p) => [p.uri, p.match, Object.values(p.allow).every(Boolean)])), [
      [['', 'prefix', true]],
      [],
      [],
    ]);
  });

  it('names an unrendered {{ template }} placeholder, and reads a listening RawSocket\'s singular "serializer"', () => {
    const doc = minimalDoc();
    ((worker(doc)['realms'] as Doc[])[0] as Doc)['name'] = '{{ realm }}';
    assert.deepEqual(problems(doc), [
      'workers[0].realms[0].name: "{{ realm }}" is an unrendered template placeholder (Crossbar.io\'s "crossbar init" fills these in; Crossbar.io refuses it as a value too): replace {{ realm }} with the value',
    ]);
    const ok = minimalDoc();
    const raw = transportOf(ok, 1);
    delete raw['serializers'];
    raw['serializer'] = 'msgpack';
    assert.deepEqual((parseConfig(ok, 'x.json').transports[1] as { serializers: readonly string[] }).serializers, ['msgpack']);
  });

  it('rejects duplicate transport ids', () => {
    const doc = minimalDoc();
    transportOf(doc, 0)['id'] = 'front';
    transportOf(doc, 1)['id'] = 'front';
    assert.deepEqual(problems(doc), [
      'workers[0].transports[1].id: duplicate transport id "front" (first at workers[0].transports[0].id)',
    ]);
  });

  it('rejects a RawSocket message size set both at the top and in options', () => {
    const doc = minimalDoc();
    Object.assign(transportOf(doc, 1), { max_message_size: 65536, options: { max_message_size: 65536 } });
    assert.deepEqual(problems(doc), [
      'workers[0].transports[1].max_message_size: also set in options.max_message_size; set it once',
    ]);
  });

  it('rejects a node without transports', () => {
    const doc = minimalDoc();
    worker(doc)['transports'] = [];
    assert.deepEqual(problems(doc), ['workers: no transports configured; xbar would accept no connections']);
  });
});
