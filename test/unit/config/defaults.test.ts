import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { defaultConfig, defaultConfigDocument } from '../../../src/config/defaults.js';
import { parseConfig, parseConfigText } from '../../../src/config/load.js';
import { starterConfigYaml } from '../../../src/config/starter.js';

describe('the embedded default configuration', () => {
  it('is what its Crossbar.io document parses to', () => {
    assert.deepEqual(parseConfig(defaultConfigDocument(), 'embedded default'), defaultConfig());
  });

  it('binds loopback only: WebSocket on 127.0.0.1:8080/ws (with /stats, /metrics, /health beside it) and RawSocket on 127.0.0.1:8081', () => {
    const config = defaultConfig();
    assert.deepEqual(
      config.transports.map((t) => [t.type, t.endpoint]),
      [
        ['web', { type: 'tcp', interface: '127.0.0.1', port: 8080 }],
        ['rawsocket', { type: 'tcp', interface: '127.0.0.1', port: 8081 }],
      ],
    );
    const web = config.transports[0];
    assert.deepEqual(web?.type === 'web' ? [...web.paths.keys()] : [], ['ws', 'stats', 'metrics', 'health']);
  });

  it('lets the anonymous role of realm1 do everything without disclosure', () => {
    assert.deepEqual(defaultConfig().realms, [
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
                allow: { call: true, register: true, publish: true, subscribe: true },
                disclose: { caller: false, publisher: false },
                cache: true,
              },
            ],
          },
        ],
      },
    ]);
  });

  it('returns a fresh object on each call', () => {
    const a = defaultConfig();
    assert.notEqual(a.realms, defaultConfig().realms);
    assert.notEqual(defaultConfigDocument(), defaultConfigDocument());
  });
});

describe('the starter configuration written by xbar init', () => {
  it('is valid and equals the embedded default', () => {
    assert.deepEqual(parseConfigText(starterConfigYaml(), 'yaml', 'config.yaml'), defaultConfig());
  });

  it('is the default document with comments', () => {
    assert.deepEqual(parseYaml(starterConfigYaml()), defaultConfigDocument());
  });

  it('explains its keys in comments', () => {
    const comments = starterConfigYaml().split('\n').filter((line) => line.includes('#'));
    assert.ok(comments.length >= 20, `only ${comments.length} commented lines`);
  });
});
