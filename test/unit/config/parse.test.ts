import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { loadConfigFile, parseConfig } from '../../../src/config/load.js';
import type { RawSocketTransportConfig, WebSocketPathConfig, WebTransportConfig } from '../../../src/config/types.js';
import { fixture, minimalDoc, permissionOf, problems, transportOf, worker, type Doc } from './config-helpers.js';

const parse = (doc: unknown) => parseConfig(doc, 'test.json');

describe('a Crossbar.io node configuration', () => {
  it('parses a Crossbar.io application config with controller, $schema and worker options', async () => {
    const config = await loadConfigFile(fixture('crossbar-app.json'));
    assert.deepEqual(
      config.realms.map((r) => [r.name, r.uriCheck, r.roles.map((o) => o.name)]),
      [['com.example.app', 'strict', ['anonymous', 'backend']]],
    );
    assert.deepEqual(
      config.transports.map((t) => [t.type, t.id, t.endpoint]),
      [
        ['web', 'transport001', { type: 'tcp', interface: '0.0.0.0', port: 8080, backlog: 1024 }],
        ['rawsocket', 'backend_rs', { type: 'unix', path: '/tmp/xbar-app.sock' }],
        ['web', 'transport002', { type: 'tcp', interface: '127.0.0.1', port: 9000 }],
      ],
    );
    const ws = (config.transports[0] as WebTransportConfig).paths.get('ws');
    assert.deepEqual(ws, {
      type: 'websocket',
      serializers: ['cbor', 'msgpack', 'json'],
      maxMessageSize: 1048576,
      maxOutBuffer: 64 * 1024 * 1024,
      slowConsumer: 'drop',
      slowConsumerTimeout: 10_000,
      maxHandshakeOutBuffer: 256 * 1024,
      readTimeout: 60_000,
      helloTimeout: 10_000,
      auth: { anonymous: { type: 'static', role: 'anonymous' } },
      autoPingInterval: 10_000,
      autoPingTimeout: 5_000,
      allowedOrigins: ['*'],
      allowNullOrigin: true,
      // options.compression.deflate: {request_max_window_bits: 13, memory_level: 5}
      deflate: { clientNoContextTakeover: false, clientMaxWindowBits: 13, serverNoContextTakeover: false, memoryLevel: 5 },
    });
    const rawsocket = config.transports[1] as RawSocketTransportConfig;
    assert.equal(rawsocket.maxMessageSize, 1048576);
    assert.deepEqual(rawsocket.auth, { anonymous: { type: 'static', role: 'backend' } });
  });

  it('reads YAML into the same config as the equivalent JSON', async () => {
    const fromJson = await loadConfigFile(fixture('crossbar-app.json'));
    const fromYaml = await loadConfigFile(fixture('crossbar-app.yaml'));
    assert.deepEqual(fromYaml, fromJson);
  });

  it('accepts a controller section and a $schema string (controller keys: controller.test.ts)', () => {
    const doc = { $schema: 'https://example.com/crossbar.json', controller: { id: 'node1', options: { title: 'n' } }, ...minimalDoc() };
    assert.equal(parse(doc).realms.length, 1);
  });

  it('accepts the crossbar init template with its static and nodeinfo paths', async () => {
    const doc = JSON.parse(await readFile(fixture('crossbar-app.json'), 'utf8')) as Doc;
    const paths = transportOf(doc, 0)['paths'] as Doc;
    paths['/'] = { type: 'static', directory: '../web', options: { enable_directory_listing: true } };
    paths['info'] = { type: 'nodeinfo' };
    const web = parse(doc).transports[0];
    assert.equal(web?.type, 'web');
    assert.equal(web.type === 'web' && web.paths.get('')?.type, 'static');
    assert.equal(web.type === 'web' && web.paths.get('info')?.type, 'nodeinfo');
  });
});

describe('normalizing a configuration', () => {
  it('fills every default of a minimal config', () => {
    const config = parse(minimalDoc());
    assert.deepEqual(config.realms, [
      {
        name: 'realm1',
        uriCheck: 'loose',
        roles: [
          {
            name: 'anonymous',
            permissions: [
              {
                uri: '',
                match: 'prefix',
                allow: { call: false, register: false, publish: false, subscribe: false },
                disclose: { caller: false, publisher: false },
                cache: false,
              },
            ],
          },
        ],
      },
    ]);
    const [web, rawsocket] = config.transports;
    assert.deepEqual(web, {
      type: 'web',
      id: 'transport001',
      endpoint: { type: 'tcp', interface: '0.0.0.0', port: 8080 },
      paths: new Map([
        [
          'ws',
          {
            type: 'websocket',
            serializers: ['json', 'msgpack', 'cbor'],
            maxMessageSize: 16 * 1024 * 1024,
            maxOutBuffer: 64 * 1024 * 1024,
            slowConsumer: 'drop',
            slowConsumerTimeout: 10_000,
            maxHandshakeOutBuffer: 256 * 1024,
            readTimeout: 60_000,
            helloTimeout: 10_000,
            autoPingInterval: 0,
            autoPingTimeout: 5_000,
          },
        ],
      ]),
    });
    assert.deepEqual(rawsocket, {
      type: 'rawsocket',
      id: 'transport002',
      endpoint: { type: 'tcp', interface: '0.0.0.0', port: 8081 },
      serializers: ['json', 'msgpack', 'cbor'],
      maxMessageSize: 16 * 1024 * 1024,
      maxOutBuffer: 64 * 1024 * 1024,
      slowConsumer: 'drop',
      slowConsumerTimeout: 10_000,
      maxHandshakeOutBuffer: 256 * 1024,
      readTimeout: 60_000,
      helloTimeout: 10_000,
    });
  });

  it('reads starred URIs as Crossbar.io does when match is absent', () => {
    const cases: [string, string, string][] = [
      ['com.example.add2', 'com.example.add2', 'exact'],
      ['com.example.*', 'com.example.', 'prefix'],
      ['*', '', 'prefix'],
      ['com.*.status', 'com..status', 'wildcard'],
      ['com.*.*', 'com..', 'wildcard'],
    ];
    for (const [written, uri, match] of cases) {
      const doc = minimalDoc();
      permissionOf(doc)['uri'] = written;
      delete permissionOf(doc)['match'];
      const [permission] = parse(doc).realms[0]?.roles[0]?.permissions ?? [];
      assert.deepEqual([permission?.uri, permission?.match], [uri, match], written);
    }
  });

  it('uses the IPv6 wildcard when version 6 has no interface', () => {
    const doc = minimalDoc();
    transportOf(doc, 1)['endpoint'] = { type: 'tcp', port: 8081, version: 6 };
    assert.deepEqual(parse(doc).transports[1]?.endpoint, { type: 'tcp', interface: '::', port: 8081, version: 6 });
  });

  it('numbers unnamed transports, skipping ids taken explicitly', () => {
    const doc = minimalDoc();
    transportOf(doc, 1)['id'] = 'transport001';
    assert.deepEqual(
      parse(doc).transports.map((t) => t.id),
      ['transport002', 'transport001'],
    );
  });

  it('serves a plain websocket transport on the root path, and maps the "/" key to the root', () => {
    const doc = minimalDoc();
    transportOf(doc, 1)['type'] = 'websocket';
    transportOf(doc, 0)['paths'] = { '/': { type: 'websocket' } };
    const [web, websocket] = parse(doc).transports as WebTransportConfig[];
    assert.deepEqual([...(web?.paths.keys() ?? [])], ['']);
    assert.equal(websocket?.type, 'web');
    assert.deepEqual([...(websocket?.paths.keys() ?? [])], ['']);
  });

  it('takes our session options from WebSocket and RawSocket options', () => {
    const doc = minimalDoc();
    const ours = { max_out_buffer: 65536, slow_consumer: 'disconnect', hello_timeout: 2500 };
    ((transportOf(doc, 0)['paths'] as Doc)['ws'] as Doc)['options'] = { ...ours, max_message_size: 4096 };
    transportOf(doc, 1)['options'] = ours;
    transportOf(doc, 1)['max_message_size'] = 1024;
    const [web, rawsocket] = parse(doc).transports;
    const ws = (web as WebTransportConfig).paths.get('ws') as WebSocketPathConfig | undefined;
    const expected = { maxOutBuffer: 65536, slowConsumer: 'disconnect', helloTimeout: 2500 };
    assert.deepEqual(
      [ws?.maxOutBuffer, ws?.slowConsumer, ws?.helloTimeout, ws?.maxMessageSize],
      [...Object.values(expected), 4096],
    );
    const rs = rawsocket as RawSocketTransportConfig;
    assert.deepEqual([rs.maxOutBuffer, rs.slowConsumer, rs.helloTimeout, rs.maxMessageSize], [...Object.values(expected), 1024]);
  });

  it('gives anonymous clients the role "anonymous" unless auth names another', () => {
    const doc = minimalDoc();
    transportOf(doc, 1)['auth'] = { anonymous: { type: 'static' } };
    assert.deepEqual((parse(doc).transports[1] as RawSocketTransportConfig).auth, {
      anonymous: { type: 'static', role: 'anonymous' },
    });
  });

  it('merges the realms and transports of several router workers', () => {
    const doc = minimalDoc();
    (doc['workers'] as Doc[]).push({
      type: 'router',
      realms: [{ name: 'realm2' }],
      transports: [{ type: 'rawsocket', endpoint: { type: 'unix', path: '/tmp/x.sock' } }],
    });
    const config = parse(doc);
    assert.deepEqual(config.realms.map((r) => r.name), ['realm1', 'realm2']);
    assert.deepEqual(config.transports.map((t) => t.id), ['transport001', 'transport002', 'transport003']);
  });

  it('accepts Crossbar.io worker options and tuning keys, and ignores them', () => {
    const doc = minimalDoc();
    worker(doc)['options'] = { title: 'r', pythonpath: ['..'], cpu_affinity: [0], env: { inherit: ['PATH'] } };
    ((transportOf(doc, 0)['paths'] as Doc)['ws'] as Doc)['options'] = { tcp_nodelay: true, fail_by_drop: false };
    transportOf(doc, 0)['options'] = { access_log: true, hsts: false };
    assert.deepEqual(parse(doc), parse(minimalDoc()));
  });
});
