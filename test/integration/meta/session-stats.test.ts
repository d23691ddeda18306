/**
 * A realm's `stats`: Crossbar.io's per-session statistics as `wamp.session.on_stats`. The
 * crossbar-examples `stats` node started unchanged (copied to a temp folder; the test swaps ports
 * 8080/8081 for free ones), its own container monitor (monitor.py) and its own client (client.py,
 * Autobahn|Python) over WebSocket/CBOR and RawSocket/MessagePack, with Autobahn|JS subscribed to
 * the meta events; then each trigger alone, and a realm whose statistics would count themselves.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loadConfigFile } from '../../../src/config/load.js';
import type { RealmConfig, SessionStatsConfig } from '../../../src/config/types.js';
import { XbarNode } from '../../../src/node.js';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { crossbarExample } from '../../helpers/crossbar-examples.js';
import { eventually } from '../../helpers/eventually.js';
import { ALLOW_ALL, testConfig } from '../../helpers/node.js';
import { freePort } from '../../helpers/ports.js';
import { DEBIAN_PYTHON } from '../auth/python-client.js';
import { FAST_POLICY, captureLog } from '../workers/support.js';

type Dict = Record<string, unknown>;
interface StatsEvent { info: Dict; stats: Dict }

/** Subscribes `client` to on_join, on_stats and on_leave and keeps what arrives. */
async function watchMeta(client: AutobahnClient): Promise<{ joins: Dict[]; stats: StatsEvent[]; leaves: number[] }> {
  const seen = { joins: [] as Dict[], stats: [] as StatsEvent[], leaves: [] as number[] };
  await client.session.subscribe('wamp.session.on_join', (args) => void seen.joins.push(args![0] as Dict));
  await client.session.subscribe('wamp.session.on_stats', (args) => void seen.stats.push({ info: args![0] as Dict, stats: args![1] as Dict }));
  await client.session.subscribe('wamp.session.on_leave', (args) => void seen.leaves.push(args![0] as number));
  return seen;
}

function statsOf(events: readonly StatsEvent[], session: number): Dict[] {
  return events.filter((e) => e.info.session === session).map((e) => e.stats);
}

function runPython(script: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(DEBIAN_PYTHON, [script, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

describe('realm stats: wamp.session.on_stats as Crossbar.io publishes it', { timeout: 90_000 }, () => {
  it('the stats example unchanged: its monitor and Autobahn|JS get the statistics of the example client over WebSocket (CBOR) and RawSocket (MessagePack)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'xbar-stats-'));
    const dir = join(root, 'stats');
    cpSync(crossbarExample('stats'), dir, { recursive: true });
    const [webPort, rawPort] = [await freePort(), await freePort()];
    const file = join(dir, '.crossbar', 'config.json');
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('8080', String(webPort)).replaceAll('8081', String(rawPort)));
    const { logger, lines } = captureLog();
    const node = new XbarNode(await loadConfigFile(file), { logger, workerPolicy: FAST_POLICY });
    await node.start();
    const t0 = Date.now();
    let watcher: AutobahnClient | undefined;
    try {
      watcher = await connectAutobahn(`ws://127.0.0.1:${webPort}/ws`);
      const seen = await watchMeta(watcher);
      // One after the other: both publish to one topic, and would get each other's events.
      await runPython('client.py', ['--url', `ws://127.0.0.1:${webPort}/ws`, '--serializer', 'cbor'], dir);
      await runPython('client.py', ['--url', `rs://127.0.0.1:${rawPort}`, '--serializer', 'msgpack'], dir);
      const clients = await eventually(() => {
        const joined = seen.joins.filter((j) => j.session !== watcher!.session.id);
        return joined.length === 2 && joined.every((j) => statsOf(seen.stats, j.session as number).some((s) => s.last === true)) && joined;
      }, 'the last statistics of both client sessions', 20_000);
      for (const join of clients) {
        const session = join.session as number;
        const transport = join.transport as Dict;
        const serializer = transport.type === 'websocket' ? 'cbor' : 'msgpack';
        const events = seen.stats.filter((e) => e.info.session === session);
        for (const e of events) assert.deepEqual(e.info, { realm: 'realm1', session, authid: join.authid, authrole: 'anonymous' });
        const stats = events.map((e) => e.stats);
        // trigger_on_join: HELLO and WELCOME; then one event per 10 rated messages (256 bytes each); the last at the leave.
        assert.deepEqual(stats.map((s) => s.cycle), stats.map((_, i) => i + 1));
        assert.deepEqual(stats.map((s) => [s.first, s.last]), stats.map((_, i) => [i === 0, i === stats.length - 1]));
        assert.equal(stats[0]!.messages, 2);
        for (const s of stats.slice(1, -1)) assert.ok((s.rated_messages as number) >= 10, `an event before 10 rated messages: ${JSON.stringify(s)}`);
        // HELLO, WELCOME, SUBSCRIBE, SUBSCRIBED, 5 × (PUBLISH, PUBLISHED, EVENT), GOODBYE both ways.
        assert.equal(stats.reduce((n, s) => n + (s.messages as number), 0), 21);
        for (const s of stats) {
          assert.deepEqual(Object.keys(s).sort(), ['bytes', 'cycle', 'duration', 'first', 'last', 'messages', 'rated_messages', 'serializer', 'timestamp']);
          assert.equal(s.serializer, serializer);
          assert.ok((s.bytes as number) >= (s.messages as number) && (s.rated_messages as number) >= (s.messages as number));
          assert.ok((s.rated_messages as number) >= Math.ceil((s.bytes as number) / 256) && (s.rated_messages as number) <= Math.ceil((s.bytes as number) / 256) + (s.messages as number));
          assert.ok((s.timestamp as number) >= (t0 - 1000) * 1e6 && (s.timestamp as number) <= Date.now() * 1e6, `timestamp in ns: ${String(s.timestamp)}`);
          assert.ok((s.duration as number) >= 0 && (s.duration as number) < 60e9, `duration in ns: ${String(s.duration)}`);
        }
        // Each cycle starts where the one before ended (timestamp: the last reset); the client publishes a second apart.
        for (let i = 1; i < stats.length; i++) {
          const end = (stats[i - 1]!.timestamp as number) + (stats[i - 1]!.duration as number);
          assert.ok(Math.abs((stats[i]!.timestamp as number) - end) < 1e6, `cycle ${i + 1} starts at the end of cycle ${i}`);
        }
        const last = stats.at(-1)!;
        assert.ok((last.timestamp as number) + (last.duration as number) - (stats[0]!.timestamp as number) >= 4e9);
      }
      // The example's monitor (a container component) printed them.
      const printed = (text: string) => lines.some((l) => String(l.msg).includes(text));
      await eventually(() => printed("'serializer': 'msgpack'") && printed("'serializer': 'cbor'"), 'the monitor to print both clients\' statistics');
      assert.ok(printed('>>>>>> MONITOR : session stats') && printed("'last': True"));
      // Its on_leave handler takes the session id alone, as Crossbar.io publishes it.
      for (const join of clients) assert.ok(printed(`>>>>>> MONITOR : session ${String(join.session)} left`), 'the monitor saw the client leave');
      assert.ok(!printed('Fatal error in component'));
    } finally {
      await watcher?.close();
      await node.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  async function statsNode(stats: SessionStatsConfig): Promise<{ node: XbarNode; url: (realm: string) => string }> {
    const roles: RealmConfig['roles'] = [{ name: 'anonymous', permissions: [ALLOW_ALL] }];
    const node = new XbarNode(testConfig({
      realms: [
        { name: 'realm1', uriCheck: 'loose', roles, sessionStats: stats },
        { name: 'plain', uriCheck: 'loose', roles },
      ],
    }), { logger: pino({ level: 'silent' }) });
    await node.start();
    return { node, url: () => `ws://127.0.0.1:${node.port('web')}/ws` };
  }

  it('trigger_after_duration (seconds) fires at the first message after it; nothing on join or leave when those are off; a realm without stats publishes none', async () => {
    const { node, url } = await statsNode({ ratedMessageSize: 512, afterRatedMessages: 0, afterDurationMs: 1000, onJoin: false, onLeave: false });
    const open: AutobahnClient[] = [];
    try {
      const watcher = await connectAutobahn(url('realm1'));
      const plainWatcher = await connectAutobahn(url('plain'), { realm: 'plain' });
      open.push(watcher, plainWatcher);
      const seen = await watchMeta(watcher);
      const plainSeen = await watchMeta(plainWatcher);
      const client = await connectAutobahn(url('realm1'));
      const plain = await connectAutobahn(url('plain'), { realm: 'plain' });
      open.push(client, plain);
      const joined = Date.now();
      await client.session.publish('com.example.a', [1], {}, { acknowledge: true });
      assert.deepEqual(statsOf(seen.stats, client.session.id), [], 'nothing before the duration');
      await eventually(() => Date.now() - joined > 1100, 'the duration to pass', 3000, 50);
      await client.session.publish('com.example.a', [2], {}, { acknowledge: true });
      await plain.session.publish('com.example.a', [2], {}, { acknowledge: true });
      const [s] = await eventually(() => {
        const got = statsOf(seen.stats, client.session.id);
        return got.length > 0 && got;
      }, 'the statistics after the duration');
      // HELLO, WELCOME, PUBLISH, PUBLISHED and the PUBLISH that came after the duration.
      assert.deepEqual({ ...s, timestamp: 0, duration: 0, bytes: 0, rated_messages: 0 }, {
        cycle: 1, serializer: 'json', timestamp: 0, duration: 0, bytes: 0, messages: 5, rated_messages: 0, first: true, last: false,
      });
      assert.ok((s!.duration as number) >= 1e9);
      assert.ok((s!.rated_messages as number) >= 5 && (s!.rated_messages as number) >= Math.ceil((s!.bytes as number) / 512));
      const [clientId, plainId] = [client.session.id, plain.session.id];
      await client.close();
      await plain.close();
      await eventually(() => seen.leaves.includes(clientId) && plainSeen.leaves.includes(plainId), 'the leaves');
      assert.equal(statsOf(seen.stats, clientId).length, 1, 'no statistics at the leave (trigger_on_leave false)');
      assert.deepEqual(plainSeen.stats, [], 'a realm without stats');
    } finally {
      for (const c of open) await c.close();
      await node.stop();
    }
  });

  it('statistics about a subscriber of the statistics do not recurse: every message a trigger (trigger_after_rated_messages 1)', async () => {
    const { node, url } = await statsNode({ ratedMessageSize: 512, afterRatedMessages: 1, afterDurationMs: 0, onJoin: true, onLeave: true });
    const open: AutobahnClient[] = [];
    try {
      const watcher = await connectAutobahn(url('realm1'));
      open.push(watcher);
      const seen = await watchMeta(watcher);
      const client = await connectAutobahn(url('realm1'));
      const id = client.session.id;
      for (let i = 0; i < 3; i++) await client.session.publish('com.example.a', [i], {}, { acknowledge: true });
      await client.close();
      await eventually(() => statsOf(seen.stats, id).some((s) => s.last === true), 'the client\'s last statistics');
      const stats = statsOf(seen.stats, id);
      assert.deepEqual(stats.map((s) => s.cycle), stats.map((_, i) => i + 1));
      // After the join's (HELLO, WELCOME), each message is its own cycle: 3 × (PUBLISH, PUBLISHED), GOODBYE both ways.
      assert.deepEqual(stats.map((s) => s.messages), [2, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
      // The watcher's own statistics: its EVENTs of on_stats count, but trigger nothing while delivered.
      const own = statsOf(seen.stats, watcher.session.id);
      assert.ok(own.length <= stats.length + 6, `the watcher's statistics stay bounded: ${own.length}`);
      const total = own.reduce((n, s) => n + (s.messages as number), 0);
      assert.ok(total >= stats.length, 'the watcher\'s received events were counted');
    } finally {
      for (const c of open) await c.close();
      await node.stop();
    }
  });
});
