import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, report, type RelayNode, startRelay } from './support.js';
import { eventually } from '../../helpers/eventually.js';

const QUEUE_BYTES = 256 * 1024;
const VIEWERS = 300;
const FPS = 30;
const STREAM_FRAMES = 120; // 4 s of video
const BURST_FRAMES = 100;

/** A frame: 4-byte sequence number, then its low byte repeated; `size` bytes in all. */
function frameOf(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  b.writeUInt32BE(seq, 0);
  return b;
}

function intact(b: Buffer): boolean {
  const seq = b.readUInt32BE(0);
  for (let i = 4; i < b.length; i++) if (b[i] !== (seq & 0xff)) return false;
  return true;
}

/** A fast viewer that checks every frame arrives, whole and in order, without keeping them. */
class Viewer {
  next = 0;
  bad = 0;
  constructor(readonly client: Client, first: number) {
    this.next = first;
    client.ws.removeAllListeners('message');
    client.ws.on('message', (data: Buffer) => {
      if (data.readUInt32BE(0) !== this.next || !intact(data)) this.bad++;
      this.next++;
    });
  }
}

describe('relay: a slow receiver slows nobody else', () => {
  let t: RelayNode;
  before(async () => {
    t = await startRelay({ queueBytes: QUEUE_BYTES, queueMessages: 64 });
  });
  after(() => t.stop());

  it(`one paused viewer, ${VIEWERS} fast viewers: a ${FPS} fps stream reaches the fast ones with no gap, the paused one's queue stays bounded and it gets whole messages only`, async () => {
    const source = await Client.open(`${t.base}/in/lab-video`);
    const paused = await Client.open(`${t.base}/out/lab-video`);
    paused.ws.pause();
    const pausedReport = () => report(t.relay, 'out/lab-video').find((r) => r.remoteAddr.endsWith(`:${(paused.ws as unknown as { _socket: { localPort: number } })._socket.localPort}`))!;

    // A burst of 64 KiB frames fills the paused viewer's kernel buffers and then its relay queue.
    let seq = 0;
    for (let i = 0; i < BURST_FRAMES; i++) await source.send(frameOf(seq++, 64 * 1024), true);
    await eventually(() => pausedReport().stats.rx.dropped > 0, 'drops for the paused viewer', 10_000);

    const viewers: Viewer[] = [];
    for (let i = 0; i < VIEWERS; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => Client.open(`${t.base}/out/lab-video`)));
      viewers.push(...batch.map((c) => new Viewer(c, BURST_FRAMES)));
    }

    // The stream: 30 frames a second, each sent on its own tick.
    let maxQueued = 0;
    const first = seq;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        source.ws.send(frameOf(seq++, 4096), { binary: true });
        maxQueued = Math.max(maxQueued, pausedReport().queued);
        if (seq - first === STREAM_FRAMES) {
          clearInterval(timer);
          resolve();
        }
      }, 1000 / FPS);
    });
    const total = seq;
    await eventually(() => viewers.every((v) => v.next === total), 'every fast viewer to receive every frame', 15_000);
    assert.equal(viewers.reduce((n, v) => n + v.bad, 0), 0, 'no gap, no reordering, no damaged frame');

    const r = pausedReport();
    assert.ok(maxQueued <= QUEUE_BYTES, `paused viewer's queue ${maxQueued} bytes stayed within ${QUEUE_BYTES}`);
    assert.ok(r.stats.rx.dropped >= STREAM_FRAMES / 2, `most of the stream was dropped for the paused viewer (${r.stats.rx.dropped})`);
    assert.equal(r.stats.rx.count + r.stats.rx.dropped, total, 'every frame was either queued or dropped (counted)');
    for (const v of report(t.relay, 'out/lab-video')) {
      if (v.id !== r.id) assert.equal(v.stats.rx.dropped, 0, 'no fast viewer lost a frame');
    }

    // Resumed, the paused viewer reads what was queued for it: whole frames, in order, with gaps.
    paused.ws.resume();
    await paused.waitFor(r.stats.rx.count, 15_000);
    const seqs = paused.messages.map((m) => m.data.readUInt32BE(0));
    assert.ok(paused.messages.every((m) => intact(m.data) && (m.data.length === 4096 || m.data.length === 64 * 1024)), 'only whole frames');
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'in order');
    assert.equal(seqs.length, r.stats.rx.count);

    await Promise.all([source, paused, ...viewers.map((v) => v.client)].map((c) => c.close()));
  });
});
