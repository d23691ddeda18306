import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startCli } from '../../helpers/cli.js';
import { connectAutobahn, connectWampy } from '../../helpers/clients.js';
import { freePort } from '../../helpers/ports.js';

const dir = mkdtempSync(path.join(tmpdir(), 'xbar-cli-'));

function config(webPort: number, rawPort: number): object {
  return {
    version: 2,
    controller: {},
    workers: [{
      type: 'router',
      realms: [{ name: 'lab', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] }] }],
      transports: [
        { type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: webPort }, paths: { ws: { type: 'websocket' } } },
        { type: 'rawsocket', endpoint: { type: 'tcp', interface: '127.0.0.1', port: rawPort } },
      ],
    }],
  };
}

describe('xbar CLI', () => {
  it('serves the realm a JSON config names, and on SIGTERM says GOODBYE wamp.close.system_shutdown and exits 0', async () => {
    const [web, raw] = [await freePort(), await freePort()];
    const file = path.join(dir, 'node.json');
    writeFileSync(file, JSON.stringify(config(web, raw)));
    const { child, exited } = await startCli(['--config', file]);
    try {
      const url = `ws://127.0.0.1:${web}/ws`;
      const sub = await connectAutobahn(url, { realm: 'lab', serializer: 'msgpack' });
      const pub = await connectWampy(url, 'cbor', 'lab');
      let received!: (args: unknown[]) => void;
      const got = new Promise<unknown[]>((r) => (received = r));
      await sub.session.subscribe('com.lab.temp', (args) => received(args));
      await pub.publish('com.lab.temp', [21.5], { acknowledge: true });
      assert.deepEqual(await got, [21.5]);
      const closed = new Promise<Record<string, unknown>>((r) => {
        sub.connection.onclose = (_reason, details) => {
          r(details);
          return true;
        };
      });
      child.kill('SIGTERM');
      const details = await closed;
      assert.equal(details.reason, 'wamp.close.system_shutdown');
      const result = await exited;
      assert.equal(result.code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('--listen moves the embedded default (WebSocket there, RawSocket on the next port)', async () => {
    const { child, output, exited } = await startCli(['--listen', '127.0.0.2:0']);
    try {
      const web = /"transport":"transport001","type":"web","address":"127\.0\.0\.2:(\d+)"/.exec(output());
      assert.ok(web, output());
      assert.match(output(), /"transport":"transport002","type":"rawsocket","address":"127\.0\.0\.2:\d+"/);
      const c = await connectAutobahn(`ws://127.0.0.2:${web[1]}/ws`, { realm: 'realm1' });
      assert.ok(c.session.id >= 1);
      await c.close();
      child.kill('SIGINT');
      assert.equal((await exited).code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('starts from a YAML config the same way', async () => {
    const [web, raw] = [await freePort(), await freePort()];
    const file = path.join(dir, 'node.yaml');
    const { stringify } = await import('yaml');
    writeFileSync(file, stringify(config(web, raw)));
    const { child, exited } = await startCli(['--config', file]);
    try {
      const c = await connectAutobahn(`ws://127.0.0.1:${web}/ws`, { realm: 'lab' });
      assert.ok(c.session.id >= 1);
      await c.close();
      child.kill('SIGINT');
      assert.equal((await exited).code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('--cbdir starts a Crossbar.io node directory as crossbar start --cbdir does (its config.json; --config relative to it); one without a config is refused', async () => {
    const [web, raw] = [await freePort(), await freePort()];
    const cbdir = mkdtempSync(path.join(dir, 'cbdir-'));
    writeFileSync(path.join(cbdir, 'config.json'), JSON.stringify(config(web, raw)));
    for (const args of [['--cbdir', cbdir], ['--cbdir', cbdir, '--config', 'config.json']]) {
      const { child, exited } = await startCli(args);
      try {
        const c = await connectWampy(`ws://127.0.0.1:${web}/ws`, 'json', 'lab');
        await c.publish('com.lab.ping', [1], { acknowledge: true });
        await c.disconnect();
        child.kill('SIGINT');
        assert.equal((await exited).code, 0);
      } finally {
        child.kill('SIGKILL');
      }
    }
    const empty = mkdtempSync(path.join(dir, 'cbdir-empty-'));
    const r = await runCli(['start', '--cbdir', empty]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--cbdir .*: no config\.json or config\.yaml there/);
  });

  it('with neither --config nor --cbdir, runs ./.crossbar or $CROSSBAR_DIR as crossbar start does; --cbdir naming the config file means its folder', async () => {
    const [web, raw] = [await freePort(), await freePort()];
    const app = mkdtempSync(path.join(dir, 'app-'));
    mkdirSync(path.join(app, '.crossbar'));
    writeFileSync(path.join(app, '.crossbar', 'config.json'), JSON.stringify(config(web, raw)));
    const elsewhere = mkdtempSync(path.join(dir, 'elsewhere-'));
    const runs: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [[], {}, app],
      [[], { CROSSBAR_DIR: path.join(app, '.crossbar') }, elsewhere],
      [['--cbdir', path.join(app, '.crossbar', 'config.json')], {}, elsewhere],
    ];
    for (const [args, env, cwd] of runs) {
      const { child, output, exited } = await startCli(args, env, { cwd });
      try {
        assert.match(output(), /"config":"[^"]*\.crossbar\/config\.json"/);
        const c = await connectWampy(`ws://127.0.0.1:${web}/ws`, 'json', 'lab');
        await c.publish('com.lab.ping', [1], { acknowledge: true });
        await c.disconnect();
        child.kill('SIGINT');
        assert.equal((await exited).code, 0);
      } finally {
        child.kill('SIGKILL');
      }
    }
    // A folder without .crossbar, or a node directory without a config file: the embedded default.
    const bare = mkdtempSync(path.join(dir, 'bare-'));
    mkdirSync(path.join(elsewhere, '.crossbar'));
    for (const cwd of [bare, elsewhere]) {
      const { child, output, exited } = await startCli(['--listen', '127.0.0.1:0'], {}, { cwd });
      try {
        assert.match(output(), /"config":"\(embedded default\)"/);
        child.kill('SIGINT');
        assert.equal((await exited).code, 0);
      } finally {
        child.kill('SIGKILL');
      }
    }
  });

  it('check names the exact key path of a wrong value and exits non-zero', async () => {
    const file = path.join(dir, 'bad.json');
    const doc = config(8080, 8081) as { workers: { transports: { endpoint: { port: unknown } }[] }[] };
    doc.workers[0]!.transports[1]!.endpoint.port = '80a';
    writeFileSync(file, JSON.stringify(doc));
    const r = await runCli(['check', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /workers\[0\]\.transports\[1\]\.endpoint\.port/);
  });

  it('check prints warnings (a role no realm defines, a permission listed twice) and still exits 0', async () => {
    const file = path.join(dir, 'warn.json');
    const doc = config(8080, 8081) as { workers: { realms: { roles: { permissions: object[] }[] }[]; transports: Record<string, unknown>[] }[] };
    doc.workers[0]!.realms[0]!.roles[0]!.permissions.push({ uri: '', match: 'prefix', allow: { call: true } });
    doc.workers[0]!.transports[1]!.auth = { anonymous: { type: 'static', role: 'guest' } };
    writeFileSync(file, JSON.stringify(doc));
    const r = await runCli(['check', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, [
      `xbar: ${file}: warning: workers[0].realms[0].roles[0].permissions[1].uri: a second permission for "" in role "anonymous"; it replaces the one at workers[0].realms[0].roles[0].permissions[0], as in Crossbar.io`,
      `xbar: ${file}: warning: workers[0].transports[1].auth.anonymous.role: no realm defines role "guest" (roles: anonymous); every anonymous client would be refused with wamp.error.no_such_role`,
      '',
    ].join('\n'));
    assert.match(r.stdout, /ok \(1 realm\(s\), 2 transport\(s\)\)/);
  });

  it('start refuses an unknown key with its path instead of ignoring it', async () => {
    const file = path.join(dir, 'unknown.json');
    const doc = config(8080, 8081) as Record<string, unknown>;
    (doc.workers as Record<string, unknown>[])[0]!.frobnicate = true;
    writeFileSync(file, JSON.stringify(doc));
    const r = await runCli(['start', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /workers\[0\]\.frobnicate/);
  });

  it('init writes a commented starter config that check accepts', async () => {
    const file = path.join(dir, 'starter.yaml');
    const r = await runCli(['init', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(file, 'utf8'), /^#/m);
    const c = await runCli(['check', file]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /ok/);
    const again = await runCli(['init', file]);
    assert.equal(again.code, 2, 'init does not overwrite without --force');
  });
});
