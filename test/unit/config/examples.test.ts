import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../../src/config/load.js';

const dir = fileURLToPath(new URL('../../../../examples/cluster/', import.meta.url));

describe('examples/cluster', () => {
  for (const i of [1, 2, 3]) {
    it(`node${i}.yaml is a valid config that joins the example cluster on loopback`, async () => {
      const config = await loadConfigFile(`${dir}node${i}.yaml`);
      assert.deepEqual(config.cluster?.servers, ['nats://127.0.0.1:14222']);
      assert.equal(config.cluster?.name, 'example');
      for (const t of config.transports) assert.equal(t.endpoint.type === 'tcp' && t.endpoint.interface, '127.0.0.1');
    });
  }

  it('haproxy.cfg is a configuration HAProxy accepts', () => {
    const out = execFileSync('haproxy', ['-c', '-f', `${dir}haproxy.cfg`], { encoding: 'utf8' });
    assert.match(out, /valid/i);
  });
});
