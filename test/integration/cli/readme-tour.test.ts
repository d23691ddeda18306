import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startNode, type TestNode } from '../../helpers/node.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

describe('the README five-minute tour', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it('runs as written against a router (its URL pointed at this test node) and prints what it says', async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const script = /```js\n(import autobahn[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(script, 'the README has the tour script');
    assert.match(script, /ws:\/\/127\.0\.0\.1:8080\/ws/);
    // Inside the repository, so `import 'autobahn'` resolves as in a project that installed it.
    const file = `${root}dist/readme-tour.mjs`;
    writeFileSync(file, script.replace('ws://127.0.0.1:8080/ws', t.wsUrl));
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [file], { timeout: 30_000, env: { ...process.env, TOUR_SECONDS: '2' } }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))),
    );
    assert.match(out, /event on lab\.rig1\.temperature \[ 21\.5 \] \{ unit: 'C' \}/);
    assert.match(out, /progress 25\nprogress 50\nprogress 75\nresult done/);
    assert.match(out, /sessions 2/);
    // Then it keeps going (two minutes unless TOUR_SECONDS says otherwise), so /stats has something to show.
    assert.match(out, /publishing and calling once a second for 2 s: open http:\/\/127\.0\.0\.1:8080\/stats/);
    assert.match(out, /event on lab\.rig1\.temperature \[ 21\.6 \] \{\}\nevent on lab\.rig1\.temperature \[ 21\.7 \] \{\}\n$/);
  });
});
