/**
 * A load-generator process of the sessions scenario (bench/sessions.ts): joins `count` WAMP
 * sessions to `url` from `localAddress`, `parallel` handshakes at a time, reports `{ joined, ms }`
 * over IPC, and keeps them open (idle) until told to close. One process per ~17,000 sessions: a
 * process here may hold at most 20,000 open files.
 *
 *   node dist/bench/sessions-client.js <url> <count> <localAddress> <parallel>
 */
import { connectMany } from './harness.js';
import { WAMP_JSON } from './wamp-peer.js';
import { BenchSocket } from './ws-client.js';

const [url, countText, localAddress, parallelText] = process.argv.slice(2);
const count = Number(countText);
const HELLO = Buffer.from('[1,"realm1",{"roles":{"publisher":{},"subscriber":{},"caller":{},"callee":{}}}]');

function join(): Promise<BenchSocket> {
  return BenchSocket.connect(url!, WAMP_JSON, 60_000, localAddress).then((s) => new Promise<BenchSocket>((resolve, reject) => {
    s.onFrame = (payload) => {
      s.onFrame = () => {};
      // WELCOME is [2,…
      if (payload[0] !== 0x5b || payload[1] !== 0x32 || payload[2] !== 0x2c) reject(new Error(`expected WELCOME, got ${payload.toString('utf8', 0, 80)}`));
      else resolve(s);
    };
    s.onClose = () => reject(new Error('closed before WELCOME'));
    s.send(HELLO);
  }));
}

const t0 = performance.now();
const sockets = await connectMany(count, Number(parallelText), join);
process.send!({ joined: sockets.length, ms: performance.now() - t0 });
process.on('message', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
