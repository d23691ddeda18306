/**
 * A native worker's `options.expose_controller` and `expose_shared`: the crossbar-examples
 * `containers/failures/router/working` node started unchanged with `xbar start --cbdir` (copied to
 * a temp folder; the test swaps port 8080 in the copy), whose router component calls
 * `self.config.controller.call('crossbar.shutdown')` — the node answers with its shutdown info and
 * stops; `containers/failures/container/working` unchanged (its container component joins and
 * leaves, the container ends as shutdown-on-last-component-stopped); and a test component that
 * reaches past crossbar.shutdown (refused, naming the procedure), uses `config.shared`, and sees
 * None without the options.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCli } from '../../helpers/cli.js';
import { connectAutobahn } from '../../helpers/clients.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/ports.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';
import { FAST_POLICY, captureLog, startWorkersNode, tempProject } from './support.js';

/** Copies the example `rel` into a temp folder at the same depth, port 8080 swapped for a free one. */
async function copyExample(rel: string): Promise<{ root: string; dir: string; port: number }> {
  const root = mkdtempSync(join(tmpdir(), 'xbar-controller-'));
  const dir = join(root, rel);
  cpSync(crossbarExample(rel), dir, { recursive: true });
  const port = await freePort();
  const file = join(dir, '.crossbar', 'config.json');
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('8080', String(port)));
  return { root, dir, port };
}

const PROBE = String.raw`
from twisted.internet.defer import inlineCallbacks
from autobahn.twisted.wamp import ApplicationSession


class Probe(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        out = {"controller": self.config.controller is not None, "shared": None}
        if self.config.shared is not None:
            from twisted.internet import reactor
            out["shared"] = sorted(self.config.shared.keys())
            out["shared_reactor"] = self.config.shared["reactor"] is reactor
            self.config.shared.setdefault("seen", []).append(self.config.extra["name"])
            out["seen"] = list(self.config.shared["seen"])
        if self.config.controller is not None:
            try:
                yield self.config.controller.call("crossbar.get_status")
            except Exception as e:
                out["get_status"] = [e.error, e.args[0]]
            try:
                yield self.config.controller.call("crossbar.shutdown", restart=True)
            except Exception as e:
                out["restart"] = [e.error, e.args[0]]
            try:
                self.config.controller.publish("crossbar.on_x")
            except AttributeError as e:
                out["publish"] = str(e)
        yield self.register(lambda: out, "probe." + self.config.extra["name"])
`;

describe('worker options expose_controller and expose_shared', { timeout: 90_000 }, () => {
  it('router/working unchanged: its component calls crossbar.shutdown through config.controller, gets the shutdown info, and the node stops (exit 0)', async () => {
    const { root, dir } = await copyExample('containers/failures/router/working');
    try {
      const { child, output, exited } = await startCli(['--cbdir', join(dir, '.crossbar'), '--log-format', 'json']);
      try {
        // myapp.py waits 3 s after joining, then calls crossbar.shutdown and leaves.
        const result = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the node did not stop: ${output()}`)), 30_000))]);
        assert.equal(result.code, 0, output());
        const lines = output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
        const started = lines.find((l) => l.msg === 'xbar node started')!;
        const progress = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown in progress: '));
        assert.ok(progress, 'the component got the answer');
        assert.match(String(progress.msg), new RegExp(`'node_id': '${String(started.node)}'`));
        assert.match(String(progress.msg), /'restart': False/);
        assert.match(String(progress.msg), /'when': '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z'/);
        assert.ok(lines.some((l) => l.msg === 'node shutdown requested by a component (crossbar.shutdown)'));
        assert.ok(lines.some((l) => l.msg === 'shutting down: GOODBYE wamp.close.system_shutdown to every session' && l.why === 'crossbar.shutdown'));
        assert.ok(!lines.some((l) => typeof l.msg === 'string' && l.msg.includes('Traceback')), 'no failure in the component');
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('container/working unchanged: its component joins, leaves after 3 s, the container ends (shutdown-on-last-component-stopped), and so the node stops (shutdown_on_worker_exit)', async () => {
    const { root, dir } = await copyExample('containers/failures/container/working');
    const { logger, lines } = captureLog();
    const asked: [string, number][] = [];
    const node = new XbarNode(await loadConfigFile(join(dir, '.crossbar', 'config.json')), { logger, workerPolicy: FAST_POLICY, onShutdownRequest: (why, code) => asked.push([why, code]) });
    try {
      await node.start();
      await eventually(() => lines.some((l) => l.msg === 'worker process exited; not restarted' && l.exit === 'exit code 0'), 'the container to end', 20_000);
      await eventually(() => asked.length > 0, 'the node to be told to stop', 5000);
      assert.deepEqual(asked, [['shutdown_on_worker_exit (worker worker002)', 0]]);
      assert.ok(lines.some((l) => l.msg === 'component stopped' && l.clean === true));
      assert.ok(lines.some((l) => String(l.msg).startsWith('MySession.onJoin(details=')));
    } finally {
      await node.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('config.controller refuses what is not crossbar.shutdown, naming it; config.shared is one dict per process with the reactor; both None without the options', async () => {
    const dir = tempProject();
    writeFileSync(join(dir.project, 'probe.py'), PROBE);
    const component = (url: string, port: number, name: string) => ({
      type: 'class', classname: 'probe.Probe', realm: 'realm1', extra: { name },
      transport: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port }, url },
    });
    const t = await startWorkersNode((url, p) => [
      { type: 'container', options: { pythonpath: ['..'], expose_controller: true, expose_shared: true }, components: [component(url, p, 'a'), component(url, p, 'b')] },
      { type: 'container', options: { pythonpath: ['..'] }, components: [component(url, p, 'plain')] },
    ], { dir });
    try {
      const caller = await connectAutobahn(t.url);
      const probe = (name: string) => eventually(async () => {
        try {
          return (await caller.session.call(`probe.${name}`)) as Record<string, unknown>;
        } catch (e) {
          if ((e as { error?: string }).error === 'wamp.error.no_such_procedure') return undefined;
          throw e;
        }
      }, `probe.${name} to be registered`, 20_000);
      const [a, b, plain] = [await probe('a'), await probe('b'), await probe('plain')];
      await caller.close();
      for (const r of [a, b]) {
        assert.equal(r.controller, true);
        assert.deepEqual(r.get_status, [
          'wamp.error.no_such_procedure',
          'crossbar.get_status is a Crossbar.io node management procedure xbar does not run: its controller (options.expose_controller) answers crossbar.shutdown only; the WAMP meta API and the stats/metrics paths describe the node',
        ]);
        assert.deepEqual(r.restart, [
          'crossbar.error.invalid_argument',
          'crossbar.shutdown: xbar does not restart a node (restart=True); stop it and start it again, e.g. under a process supervisor',
        ]);
        assert.match(String(r.publish), /xbar's config\.controller \(options\.expose_controller\) offers call\(\) only, not 'publish'/);
        assert.equal(r.shared_reactor, true);
      }
      // One dict for both components of the process: the one that joined second saw the first's entry.
      const [first, second] = (a.seen as string[]).length === 1 ? [a, b] : [b, a];
      assert.deepEqual([first.shared, second.shared], [['reactor'], ['reactor', 'seen']]);
      assert.deepEqual([...(second.seen as string[])].sort(), ['a', 'b']);
      assert.equal((first.seen as string[]).length, 1);
      assert.deepEqual(plain, { controller: false, shared: null });
    } finally {
      await t.stop();
    }
  });
});
