import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

  it('the README\'s cluster commands name files of this folder and say what node1.yaml says', async () => {
    const readme = readFileSync(`${dir}../../README.md`, 'utf8');
    const named = [...readme.matchAll(/examples\/cluster\/([\w.-]+)/g)].map((m) => m[1]!);
    assert.ok(named.includes('run.sh') && named.includes('node1.yaml'), named.join());
    for (const name of named) assert.ok(existsSync(`${dir}${name}`), `examples/cluster/${name} exists`);
    const config = await loadConfigFile(`${dir}node1.yaml`);
    const start = /npm start -- --config examples\/cluster\/node1\.yaml +# its cluster: (\S+), name "([^"]+)"/.exec(readme);
    assert.ok(start, 'the README starts node1.yaml with npm start');
    assert.deepEqual([start[1], start[2]], [config.cluster?.servers[0], config.cluster?.name]);
  });

  it('haproxy.cfg is a configuration HAProxy accepts', () => {
    const out = execFileSync('haproxy', ['-c', '-f', `${dir}haproxy.cfg`], { encoding: 'utf8' });
    assert.match(out, /valid/i);
  });
});
