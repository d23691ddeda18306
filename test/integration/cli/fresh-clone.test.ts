/**
 * The README's commands on a fresh clone of this repository, as a new user types them. The set-up
 * commands must be literally `npm ci` and `npm test`; the run command `npm start` must serve the
 * embedded default straight from what `npm ci` left (no install, no build at start), also twice at
 * once and with `-- --config FILE`.
 *
 * `npm ci` is the lockfile's node_modules plus `prepare` (tsc into dist/); this suite has both, so
 * the clone gets them as a link to node_modules and a copy of dist/src — the real `npm ci` costs
 * minutes on a loaded 2-core machine. XBAR_TEST_NPM_CI=1 runs the real `npm ci` in the clone.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn } from '../../helpers/clients.js';
import { freePort } from '../../helpers/ports.js';
import { spawnGroup } from '../../helpers/process-group.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The commands of a README ```sh block, comments and blank lines dropped. */
function commands(block: string): string[] {
  return block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '' && !l.startsWith('#'));
}
const shBlocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => commands(m[1]!));

describe('the README on a fresh clone', () => {
  let clone: string;
  before(() => {
    clone = mkdtempSync(path.join(tmpdir(), 'xbar-clone-'));
    execFileSync('git', ['clone', '--quiet', root, clone]);
    if (process.env.XBAR_TEST_NPM_CI === '1') {
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: clone, stdio: 'ignore' });
    } else {
      assert.equal(readFileSync(path.join(clone, 'package-lock.json'), 'utf8'), readFileSync(path.join(root, 'package-lock.json'), 'utf8'), 'the clone has this lockfile');
      symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'));
      cpSync(path.join(root, 'dist', 'src'), path.join(clone, 'dist', 'src'), { recursive: true });
    }
  });
  after(() => rmSync(clone, { recursive: true, force: true }));

  it('says to set up with exactly `npm ci` and `npm test`, and to run with `npm start`', () => {
    assert.deepEqual(shBlocks[0], ['npm ci', 'npm test']);
    assert.deepEqual(shBlocks[1], ['npm start']);
    const pkg = JSON.parse(readFileSync(path.join(clone, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.prepare, 'tsc -p .', 'npm ci builds dist/');
    assert.equal(pkg.scripts.start, 'node bin/xbar.js start', 'npm start runs what npm ci built, nothing else');
    assert.match(pkg.scripts.pretest ?? '', /scripts\/ensure-tools\.sh/, 'npm test makes sure of the system tools first');
    assert.ok(existsSync(path.join(clone, 'scripts', 'ensure-tools.sh')));
  });

  it('`npm start` serves the embedded default, twice at once on other ports, and `npm start -- --config FILE` serves the file', async () => {
    const b = await freePort();
    writeFileSync(path.join(clone, 'lab.yaml'), [
      'version: 2',
      'workers:',
      '  - type: router',
      '    realms: [{name: lab, roles: [{name: anonymous, permissions: [{uri: "", match: prefix, allow: {call: true, register: true, publish: true, subscribe: true}}]}]}]',
      `    transports: [{type: websocket, endpoint: {type: tcp, interface: 127.0.0.1, port: ${b}}}]`,
      '',
    ].join('\n'));
    // `--port 0`: any free ports for the embedded default's WebSocket and RawSocket (not 8080/8081).
    const first = spawnGroup('npm', ['start', '--', '--port', '0'], { cwd: clone });
    const second = spawnGroup('npm', ['start', '--', '--config', 'lab.yaml'], { cwd: clone });
    try {
      await Promise.all([first.waitFor(/xbar node started/), second.waitFor(/xbar node started/)]);
      const a = Number((await first.waitFor(/"type":"web","address":"127\.0\.0\.1:(\d+)"/))[1]);
      const def = await connectAutobahn(`ws://127.0.0.1:${a}/ws`, { realm: 'realm1' });
      const lab = await connectAutobahn(`ws://127.0.0.1:${b}/`, { realm: 'lab' });
      assert.equal(await def.session.call('wamp.session.count'), 1);
      assert.equal(await lab.session.call('wamp.session.count'), 1);
      await def.close();
      await lab.close();
      const [x, y] = await Promise.all([first.stop('SIGINT'), second.stop('SIGINT')]);
      assert.doesNotMatch(first.output() + second.output(), /ENOENT|Error:/);
      assert.ok(x.code === 0 || x.signal === 'SIGINT', `npm start ended with ${x.code ?? x.signal}`);
      assert.ok(y.code === 0 || y.signal === 'SIGINT', `npm start ended with ${y.code ?? y.signal}`);
    } finally {
      await Promise.all([first.stop('SIGKILL'), second.stop('SIGKILL')]);
    }
  });
});
